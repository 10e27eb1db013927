"""Writing a parsed plain-text file to the database: its tag, its posts and their sections.

The file is authoritative for what it holds. Importing it again updates the posts it names
(matched by slug) instead of duplicating them, and leaves everything else alone.

An import is a change like the API's, made through the same service functions: each post it
creates or changes gets a new version and a revision (mutation ``import``, no editor), the
webhook deliveries it owes (``cms.services.webhooks.outbox``) and, once committed, a content-change
event that purges caches and reaches subscribers. A post the file leaves as it is keeps its
version. It happens in two steps:

1. ``plan_import`` reads what the database holds and decides what to write, noting the version
   of every post it will change;
2. ``apply_import`` writes the whole file in one transaction, each change claiming the version
   the plan read. If a post changed in between (an edit through the API, say), the import fails
   with ``ImportConflict`` and writes nothing: run it again to apply the file to the new state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms.content.plaintext import ParsedFile, ParsedPost
from cms.errors import Conflict, InvalidInput, NotFound, VersionConflict
from cms.models import Author, Post, PostStatus, PostTag, Section, Tag
from cms.rendering.markdown import render_plain_text
from cms.services.authoring import insert_post
from cms.services.editing import announce, write_change
from cms.services.sections import (
    RenderedSection,
    SectionRow,
    render_sections,
    replace_sections,
    section_rows,
)
from cms.services.validation import SectionInput

HOUSE_AUTHOR_SLUG = "editorial"
HOUSE_AUTHOR_NAME = "Editorial"
HOUSE_AUTHOR_EMAIL = "editorial@localhost"
EXCERPT_MAX_CHARS = 300
# Posts read per query while planning: keeps each IN (...) list well inside the databases'
# limits on bound parameters. Progress is reported after each batch written.
BATCH_SIZE = 500
MUTATION = "import"

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each batch of posts."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    tag_slug: str


class ImportConflict(Conflict):
    """Raised when a post the import changes was changed by someone else since it was read."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(
            f"the post {slug!r} changed while the file was being imported ({detail}); "
            "nothing was imported: import the file again",
            field="slug",
        )


@dataclass(frozen=True, slots=True)
class PlannedPost:
    """One post of the file and what importing it writes."""

    parsed: ParsedPost
    # The sections to write, rendered; empty when the post's sections stay as they are.
    sections: list[RenderedSection]
    # The post's own fields to write: all of them for a new post, those that differ for an
    # existing one.
    fields: dict[str, Any]
    # The post as the plan read it; None for a post the import creates.
    existing: Post | None
    # Whether an existing post differs from the file (its fields, sections or tag link).
    changed: bool
    write_sections: bool
    link_tag: bool

    @property
    def kind(self) -> str:
        """The content-change kind of this post's write (``cms.services.webhooks.events``)."""
        if self.existing is None:
            return "post.created"
        before = self.existing.status
        after = self.fields.get("status", before)
        if after is PostStatus.PUBLISHED and before is not PostStatus.PUBLISHED:
            return "post.published"
        if after is not PostStatus.PUBLISHED and before is PostStatus.PUBLISHED:
            return "post.unpublished"
        return "post.updated"


@dataclass(frozen=True)
class ImportPlan:
    tag_slug: str
    tag_name: str
    # Who new posts are by, and whom existing ones go to; None: new posts are by the house
    # author (created when the plan is applied if need be), existing ones keep theirs.
    author: Author | None
    posts: list[PlannedPost] = field(default_factory=list)

    @property
    def report(self) -> ImportReport:
        created = sum(1 for post in self.posts if post.existing is None)
        updated = sum(1 for post in self.posts if post.changed)
        return ImportReport(
            created=created,
            updated=updated,
            unchanged=len(self.posts) - created - updated,
            tag_slug=self.tag_slug,
        )


async def import_plaintext(
    parsed: ParsedFile,
    *,
    author_slug: str | None,
    status: PostStatus = PostStatus.PUBLISHED,
    progress: Progress | None = None,
) -> ImportReport:
    """Create or update every post in ``parsed``, all in one transaction.

    New posts are written by ``author_slug`` (the house author when None). An existing post
    keeps its author unless ``author_slug`` is given, and keeps its ``published_at`` once
    it has been published. New published posts are dated one second apart, the file's first
    post newest, so the default newest-first order is the file's order.
    """
    plan = await plan_import(parsed, author_slug=author_slug, status=status)
    return await apply_import(plan, progress=progress)


async def plan_import(
    parsed: ParsedFile, *, author_slug: str | None, status: PostStatus = PostStatus.PUBLISHED
) -> ImportPlan:
    """What importing ``parsed`` writes, from the database as it is now (reads only)."""
    if status not in {PostStatus.PUBLISHED, PostStatus.DRAFT}:
        raise InvalidInput(
            f"posts can be imported as PUBLISHED or DRAFT, not {status}", field="status"
        )
    author = await _named_author(author_slug) if author_slug is not None else None
    tag = await Tag.get_or_none(slug=parsed.tag_slug)
    rules = _Rules(status=status, now=datetime.now(UTC).replace(microsecond=0))
    plan = ImportPlan(tag_slug=parsed.tag_slug, tag_name=parsed.tag_name, author=author)
    for start in range(0, len(parsed.posts), BATCH_SIZE):
        batch = parsed.posts[start : start + BATCH_SIZE]
        existing = {post.slug: post for post in await Post.filter(slug__in=[p.slug for p in batch])}
        ids = [post.id for post in existing.values()]
        stored = await _sections_of(ids)
        linked: set[int] = set()
        if tag is not None:
            links = PostTag.filter(tag_id=tag.id, post_id__in=ids).values("post_id")
            linked = {row["post_id"] for row in await links}
        for offset, parsed_post in enumerate(batch):
            sections = [SectionInput(heading=s.heading, body=s.body) for s in parsed_post.sections]
            post = existing.get(parsed_post.slug)
            fields = rules.fields(parsed_post, sections, post, start + offset)
            if post is None:
                new = PlannedPost(
                    parsed=parsed_post,
                    sections=await render_sections(sections, field=_sections_field(parsed_post)),
                    fields=fields,
                    existing=None,
                    changed=False,
                    write_sections=True,
                    link_tag=True,
                )
                plan.posts.append(new)
                continue
            if author is not None:
                fields["author_id"] = author.id
            changed_fields = {k: v for k, v in fields.items() if getattr(post, k) != v}
            write_sections = stored.get(post.id, []) != section_rows(sections)
            link_tag = post.id not in linked
            rendered = (
                await render_sections(sections, field=_sections_field(parsed_post))
                if write_sections
                else []
            )
            plan.posts.append(
                PlannedPost(
                    parsed=parsed_post,
                    sections=rendered,
                    fields=changed_fields,
                    existing=post,
                    changed=bool(changed_fields or write_sections or link_tag),
                    write_sections=write_sections,
                    link_tag=link_tag,
                )
            )
    return plan


def _sections_field(post: ParsedPost) -> str:
    # Where a refused body is reported: the post by its slug, then the section's position.
    return f"{post.slug}.sections"


async def apply_import(plan: ImportPlan, *, progress: Progress | None = None) -> ImportReport:
    """Write ``plan`` in one transaction; ``ImportConflict`` (and nothing written) if a post
    it changes is no longer at the version the plan read."""
    total = len(plan.posts)
    written: list[tuple[PlannedPost, Post]] = []
    async with in_transaction():
        author = plan.author or await _house_author()
        tag, _ = await Tag.get_or_create(slug=plan.tag_slug, defaults={"name": plan.tag_name})
        for start in range(0, total, BATCH_SIZE):
            for planned in plan.posts[start : start + BATCH_SIZE]:
                post = await _write(planned, author_id=author.id, tag_id=tag.id)
                if post is not None:
                    written.append((planned, post))
            if progress is not None:
                progress(min(start + BATCH_SIZE, total), total)
    await _announce(written)
    return plan.report


def make_excerpt(bodies: Sequence[str], max_chars: int = EXCERPT_MAX_CHARS) -> str:
    """The first paragraph of the first body as plain text, cut on a word to ``max_chars``."""
    if not bodies:
        return ""
    first_paragraph = bodies[0].split("\n\n", 1)[0]
    text = " ".join(render_plain_text(first_paragraph).split())
    if len(text) <= max_chars:
        return text
    limit = max_chars - 1  # room for the ellipsis
    # One character past the limit tells whether the last word there is whole.
    cut = text[: limit + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut[:limit]
    return cut.rstrip(" ,;:.-") + "\u2026"


@dataclass(frozen=True)
class _Rules:
    """How the file's posts map to a post's own fields."""

    status: PostStatus
    now: datetime

    def fields(
        self, parsed: ParsedPost, sections: Sequence[SectionInput], post: Post | None, index: int
    ) -> dict[str, Any]:
        return {
            "title": parsed.title,
            "slug": parsed.slug,
            "excerpt": make_excerpt([section.body for section in sections]),
            "status": self.status,
            "published_at": self._published_at(post.published_at if post else None, index),
        }

    def _published_at(self, current: datetime | None, index: int) -> datetime | None:
        if self.status != PostStatus.PUBLISHED:
            return None
        # A post that is already out keeps its date, so re-importing never reorders the site.
        if current is not None and current <= self.now:
            return current
        return self.now - timedelta(seconds=index)


async def _write(planned: PlannedPost, *, author_id: int, tag_id: int) -> Post | None:
    """Write one planned post through the editing services; None when there is nothing to."""
    slug = planned.parsed.slug
    if planned.existing is None:
        try:
            return await insert_post(
                {**planned.fields, "author_id": author_id},
                sections=planned.sections,
                tag_ids=[tag_id],
                editor_id=None,
                mutation=MUTATION,
            )
        except IntegrityError as exc:
            if "slug" not in str(exc).lower():
                raise
            raise ImportConflict(slug, "another post was created with its slug") from exc
    if not planned.changed:
        return None
    expected = planned.existing.version

    async def write_related(post: Post) -> None:
        if planned.write_sections:
            await replace_sections(post.id, planned.sections)
        if planned.link_tag:
            await PostTag.create(post_id=post.id, tag_id=tag_id)

    try:
        return await write_change(
            planned.existing,
            expected_version=expected,
            editor_id=None,
            mutation=MUTATION,
            event=planned.kind,
            now=datetime.now(UTC),
            fields=planned.fields,
            then=write_related,
        )
    except VersionConflict as exc:
        detail = f"version {expected} was read, it is now at {exc.current_version}"
        raise ImportConflict(slug, detail) from exc


async def _announce(written: list[tuple[PlannedPost, Post]]) -> None:
    """Tell listeners what the committed import touched, one event per kind of change."""
    if not written:
        return
    tags: dict[int, set[int]] = defaultdict(set)
    links = PostTag.filter(post_id__in=[post.id for _, post in written])
    for post_id, tag_id in await links.values_list("post_id", "tag_id"):
        tags[post_id].add(tag_id)
    by_kind: dict[str, list[tuple[PlannedPost, Post]]] = defaultdict(list)
    for planned, post in written:
        by_kind[planned.kind].append((planned, post))
    for kind, posts in by_kind.items():
        await announce(
            kind,
            post_ids=[post.id for _, post in posts],
            tag_ids={tag_id for _, post in posts for tag_id in tags[post.id]},
            author_ids={post.author_id for _, post in posts}
            | {planned.existing.author_id for planned, _ in posts if planned.existing},
        )


async def _house_author() -> Author:
    author, _ = await Author.get_or_create(
        slug=HOUSE_AUTHOR_SLUG,
        defaults={"name": HOUSE_AUTHOR_NAME, "email": HOUSE_AUTHOR_EMAIL},
    )
    return author


async def _named_author(slug: str) -> Author:
    found = await Author.get_or_none(slug=slug)
    if found is None:
        raise NotFound(f"no author with the slug {slug!r}", field="author")
    return found


async def _sections_of(post_ids: list[int]) -> dict[int, list[SectionRow]]:
    rows: dict[int, list[SectionRow]] = {post_id: [] for post_id in post_ids}
    for post_id, heading, anchor, body in await (
        Section.filter(post_id__in=post_ids)
        .order_by("post_id", "position")
        .values_list("post_id", "heading", "anchor", "body")
    ):
        rows[post_id].append((heading, anchor, body))
    return rows
