"""Writing a parsed plain-text file to the database: its tag, its posts and their sections.

The file is authoritative for what it holds. Importing it again updates the posts it names
(matched by slug) instead of duplicating them, and leaves everything else alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from cms.content.markdown import assign_anchors, render_plain_text
from cms.content.plaintext import ParsedFile, ParsedPost
from cms.content.rendering import render_bodies
from cms.errors import InvalidInput, NotFound
from cms.models import Author, Post, PostStatus, PostTag, Section, Tag

HOUSE_AUTHOR_SLUG = "editorial"
HOUSE_AUTHOR_NAME = "Editorial"
HOUSE_AUTHOR_EMAIL = "editorial@localhost"
EXCERPT_MAX_CHARS = 300
# Posts handled per round of queries: bounds memory and keeps each IN (...) list and bulk
# UPDATE well inside the databases' limits on bound parameters.
BATCH_SIZE = 500

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each batch of posts."""

# (heading, anchor, body) for each section of a post, in order.
SectionRows = list[tuple[str | None, str, str]]


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    tag_slug: str


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
    if status not in {PostStatus.PUBLISHED, PostStatus.DRAFT}:
        raise InvalidInput(
            f"posts can be imported as PUBLISHED or DRAFT, not {status}", field="status"
        )
    now = datetime.now(UTC).replace(microsecond=0)
    total = len(parsed.posts)
    created = updated = 0
    async with in_transaction():
        author = await _import_author(author_slug)
        tag, _ = await Tag.get_or_create(slug=parsed.tag_slug, defaults={"name": parsed.tag_name})
        for start in range(0, total, BATCH_SIZE):
            batch = _Batch(
                tag=tag,
                author=author,
                reassign=author_slug is not None,
                status=status,
                now=now,
                first_index=start,
            )
            await batch.write(parsed.posts[start : start + BATCH_SIZE])
            created += batch.created
            updated += batch.updated
            if progress is not None:
                progress(min(start + BATCH_SIZE, total), total)
    return ImportReport(
        created=created,
        updated=updated,
        unchanged=total - created - updated,
        tag_slug=tag.slug,
    )


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


async def _import_author(slug: str | None) -> Author:
    if slug is None:
        author, _ = await Author.get_or_create(
            slug=HOUSE_AUTHOR_SLUG,
            defaults={"name": HOUSE_AUTHOR_NAME, "email": HOUSE_AUTHOR_EMAIL},
        )
        return author
    found = await Author.get_or_none(slug=slug)
    if found is None:
        raise NotFound(f"no author with the slug {slug!r}", field="author")
    return found


def _section_rows(post: ParsedPost) -> SectionRows:
    anchors = assign_anchors(section.heading for section in post.sections)
    return [
        (section.heading, anchor, section.body)
        for section, anchor in zip(post.sections, anchors, strict=True)
    ]


@dataclass
class _Batch:
    """One batch of posts: a fixed number of queries however many posts it holds."""

    tag: Tag
    author: Author
    reassign: bool
    status: PostStatus
    now: datetime
    first_index: int
    created: int = 0
    updated: int = 0

    async def write(self, posts: Sequence[ParsedPost]) -> None:
        existing = {post.slug: post for post in await Post.filter(slug__in=[p.slug for p in posts])}
        old_sections = await self._sections_of(list(existing.values()))
        links = PostTag.filter(tag_id=self.tag.id, post_id__in=[p.id for p in existing.values()])
        linked: set[int] = {row["post_id"] for row in await links.values("post_id")}
        new_posts: list[Post] = []
        changed_posts: list[Post] = []
        rows_by_slug: dict[str, SectionRows] = {}
        for offset, parsed in enumerate(posts):
            rows = _section_rows(parsed)
            post = existing.get(parsed.slug)
            if post is None:
                new_posts.append(self._new_post(parsed, rows, self.first_index + offset))
                rows_by_slug[parsed.slug] = rows
            elif self._apply(post, parsed, rows, self.first_index + offset) or (
                old_sections.get(post.id) != rows or post.id not in linked
            ):
                post.version += 1
                changed_posts.append(post)
                rows_by_slug[parsed.slug] = rows

        if new_posts:
            await Post.bulk_create(new_posts)
        if changed_posts:
            await Post.bulk_update(
                changed_posts,
                fields=[
                    "title",
                    "excerpt",
                    "status",
                    "published_at",
                    "author_id",
                    "version",
                    "updated_at",
                ],
            )
            await Section.filter(post_id__in=[post.id for post in changed_posts]).delete()
        ids = await self._ids_of(list(rows_by_slug))
        placed = [
            (slug, position, heading, anchor, body)
            for slug, rows in rows_by_slug.items()
            for position, (heading, anchor, body) in enumerate(rows)
        ]
        rendered = await render_bodies(
            [body for *_, body in placed],
            fields=[f"{slug}.sections.{position}.body" for slug, position, *_ in placed],
        )
        await Section.bulk_create(
            Section(
                post_id=ids[slug],
                position=position,
                heading=heading,
                anchor=anchor,
                body=body,
                html=html,
                plain_text=plain_text,
            )
            for (slug, position, heading, anchor, body), (html, plain_text) in zip(
                placed, rendered, strict=True
            )
        )
        await PostTag.bulk_create(
            PostTag(post_id=post_id, tag_id=self.tag.id)
            for post_id in ids.values()
            if post_id not in linked
        )
        self.created = len(new_posts)
        self.updated = len(changed_posts)

    def _new_post(self, parsed: ParsedPost, rows: SectionRows, index: int) -> Post:
        return Post(
            title=parsed.title,
            slug=parsed.slug,
            excerpt=make_excerpt([body for _, _, body in rows]),
            status=self.status,
            published_at=self._published_at(None, index),
            author_id=self.author.id,
        )

    def _apply(self, post: Post, parsed: ParsedPost, rows: SectionRows, index: int) -> bool:
        """Set the post's own fields from the file; True when any of them changed."""
        wanted = {
            "title": parsed.title,
            "excerpt": make_excerpt([body for _, _, body in rows]),
            "status": self.status,
            "published_at": self._published_at(post.published_at, index),
            "author_id": self.author.id if self.reassign else post.author_id,
        }
        changed = False
        for name, value in wanted.items():
            if getattr(post, name) != value:
                setattr(post, name, value)
                changed = True
        return changed

    def _published_at(self, current: datetime | None, index: int) -> datetime | None:
        if self.status != PostStatus.PUBLISHED:
            return None
        # A post that is already out keeps its date, so re-importing never reorders the site.
        if current is not None and current <= self.now:
            return current
        return self.now - timedelta(seconds=index)

    @staticmethod
    async def _sections_of(posts: list[Post]) -> dict[int, SectionRows]:
        rows: dict[int, SectionRows] = {post.id: [] for post in posts}
        for post_id, heading, anchor, body in await (
            Section.filter(post_id__in=list(rows))
            .order_by("post_id", "position")
            .values_list("post_id", "heading", "anchor", "body")
        ):
            rows[post_id].append((heading, anchor, body))
        return rows

    @staticmethod
    async def _ids_of(slugs: list[str]) -> dict[str, int]:
        # bulk_create does not report the ids it assigned, so read them back by slug.
        pairs = await Post.filter(slug__in=slugs).values_list("slug", "id")
        return dict(pairs)
