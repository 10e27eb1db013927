"""Synthetic content for benchmarks, demos and tests: authors, tags, posts and sections.

Everything is drawn from ``random.Random(seed)`` and dated relative to fixed instants, so one
seed always yields the same rows (only ``updated_at``, which the ORM stamps, differs).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slugify import slugify
from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms.content.importer import make_excerpt
from cms.errors import Conflict, InvalidInput
from cms.models import Author, Post, PostStatus, PostTag, Role, Section, Tag
from cms.rendering.markdown import assign_anchors
from cms.rendering.workers import render_bodies

# Published posts fall in the two years before this instant; it is fixed, not now(), so runs
# agree, and it lies in the past, so every published post is live.
PUBLISHED_BEFORE = datetime(2026, 1, 1, tzinfo=UTC)
PUBLISHED_SPAN = timedelta(days=730)
# Scheduled posts fall in the year after this instant: far enough ahead to stay unpublished.
SCHEDULED_AFTER = datetime(2100, 1, 1, tzinfo=UTC)
# Posts written per round of inserts; each round is a few multi-row INSERTs.
BATCH_SIZE = 1000
LIMITS = {"posts": 1_000_000, "tags": 10_000, "authors": 10_000, "sections": 50}

Progress = Callable[[int, int], None]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST_NAMES = _words(
    "Ada Bruno Carmen Dmitri Elena Farid Greta Hiro Ines Jonas Keiko Luca Maya Nils Omar Priya "
    "Quinn Rosa Sven Tariq Ulla Vera Wen Ximena Yusuf Zoe"
)
_LAST_NAMES = _words(
    "Abara Berger Castillo Duval Eriksen Fischer Gallo Haddad Ito Jansen Kowalski Lindqvist "
    "Moreau Nakamura Okafor Petrov Quispe Rossi Sato Tanaka Ueda Varga Weber Yilmaz Zhou"
)
_TOPICS = _words(
    "Caching Databases Search Testing Security Observability Deployment Design Performance "
    "Accessibility Frontend Backend Tooling Architecture Migrations Queues Schemas Networking "
    "Documentation Onboarding Reliability Privacy Storage Analytics Localization Mobile"
)
_ADJECTIVES = _words(
    "quiet steady careful small lazy shared fast slow hidden simple brittle patient modest "
    "honest boring clever stale fresh early late narrow broad gentle plain"
)
_NOUNS = _words(
    "cache queue schema ticket pipeline release review deadline budget sprint service request "
    "migration runbook backlog dashboard report replica cluster snapshot feature contract "
    "checklist rollout handover prototype"
)
_VERBS = _words(
    "shapes slows guides protects replaces hides simplifies exposes delays rewards tests "
    "outlives measures frames unblocks complicates"
)
_PREPOSITIONS = _words("for across behind during without beyond within after")
_HEADINGS = (
    "Background",
    "The first attempt",
    "What went wrong",
    "Measuring the result",
    "Trade-offs",
    "A closer look",
    "Open questions",
    "What we kept",
    "Lessons",
    "Next steps",
    "Costs and benefits",
    "The numbers",
    "Rolling it out",
    "A second opinion",
)
_TITLE_PATTERNS = (
    "A Field Guide to {Adj} {Nouns}",
    "Why the {Noun} {Verb} {Topic}",
    "{Count} Lessons from {Adj} {Nouns}",
    "Notes on {Topic} and the {Adj} {Noun}",
    "The Quiet Cost of {Adj} {Nouns}",
    "{Topic} {Prep} the {Adj} {Noun}",
    "What the {Noun} Taught Us About {Topic}",
)


@dataclass(frozen=True, slots=True)
class GenerateReport:
    authors: int
    tags: int
    posts: int
    sections: int
    post_tags: int


async def generate_content(
    *,
    posts: int,
    tags: int,
    authors: int,
    sections: int,
    seed: int,
    progress: Progress | None = None,
) -> GenerateReport:
    """Write ``posts`` posts of ``sections`` sections each, by ``authors`` authors, under ``tags``.

    Refuses (Conflict) a database that already holds authors, tags or posts: generated rows
    are meant to be reproducible, which they cannot be once they are mixed with other data.
    About 95% of posts are published; every 40th is a draft and every 40th a scheduled post.
    """
    for name, value in {
        "posts": posts,
        "tags": tags,
        "authors": authors,
        "sections": sections,
    }.items():
        if not 1 <= value <= LIMITS[name]:
            raise InvalidInput(
                f"{name} must be between 1 and {LIMITS[name]}, not {value}", field=name
            )
    # Reproducibility is the point here, not unpredictability.
    writer = _Writer(random.Random(seed))  # noqa: S311
    async with in_transaction():
        await _refuse_existing_content()
        author_ids = await writer.authors(authors)
        tag_ids = await writer.tags(tags)
        for start in range(0, posts, BATCH_SIZE):
            count = min(BATCH_SIZE, posts - start)
            await writer.posts(start, count, sections, author_ids, tag_ids)
            if progress is not None:
                progress(start + count, posts)
    return GenerateReport(
        authors=authors,
        tags=tags,
        posts=posts,
        sections=posts * sections,
        post_tags=writer.post_tags,
    )


async def _refuse_existing_content() -> None:
    for model in (Post, Tag, Author):
        count = await model.all().count()
        if count:
            table = model._meta.db_table
            raise Conflict(
                f"generate needs an empty database, but the {table} table has {count} rows"
            )


class _Writer:
    """Draws every value from one random stream, in a fixed order, and writes it in batches."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: dict[type[Model], set[str]] = {Author: set(), Tag: set(), Post: set()}
        self.post_tags = 0

    def unique(self, model: type[Model], name: str) -> tuple[str, str]:
        """``name`` and its slug, both numbered (``Ada Berger 2``) when the slug is taken."""
        taken = self.taken[model]
        slug, n = slugify(name, max_length=72), 1
        while slug in taken:
            n += 1
            slug = slugify(f"{name} {n}", max_length=72)
        taken.add(slug)
        return (name if n == 1 else f"{name} {n}"), slug

    async def authors(self, count: int) -> list[int]:
        rows: list[Author] = []
        for index in range(count):
            name, slug = self.unique(
                Author, f"{self.rng.choice(_FIRST_NAMES)} {self.rng.choice(_LAST_NAMES)}"
            )
            rows.append(
                Author(
                    name=name,
                    slug=slug,
                    email=f"{slug}@example.com",
                    bio=self.sentence(),
                    role=Role.EDITOR if index % 10 == 0 else Role.AUTHOR,
                )
            )
        await Author.bulk_create(rows, batch_size=BATCH_SIZE)
        return await _ids(Author, [row.slug for row in rows])

    async def tags(self, count: int) -> list[int]:
        rows: list[Tag] = []
        for index in range(count):
            # The plain topic names first, then qualified ones once they run out.
            name, slug = self.unique(
                Tag, _TOPICS[index] if index < len(_TOPICS) else self.qualified_topic()
            )
            rows.append(Tag(name=name, slug=slug, description=self.sentence()))
        await Tag.bulk_create(rows, batch_size=BATCH_SIZE)
        return await _ids(Tag, [row.slug for row in rows])

    async def posts(
        self, start: int, count: int, sections: int, author_ids: list[int], tag_ids: list[int]
    ) -> None:
        rows: list[Post] = []
        bodies: list[list[tuple[str | None, str]]] = []
        tag_choices: list[list[int]] = []
        for index in range(start, start + count):
            post_sections = self.sections(sections)
            status, published_at = self.schedule(index)
            title, slug = self.unique(Post, self.title())
            rows.append(
                Post(
                    title=title,
                    slug=slug,
                    excerpt=make_excerpt([body for _, body in post_sections]),
                    status=status,
                    published_at=published_at,
                    created_at=min(published_at or PUBLISHED_BEFORE, PUBLISHED_BEFORE)
                    - timedelta(hours=self.rng.randint(1, 72)),
                    author_id=self.rng.choice(author_ids),
                )
            )
            bodies.append(post_sections)
            tag_choices.append(self.rng.sample(tag_ids, self.rng.randint(1, min(3, len(tag_ids)))))

        await Post.bulk_create(rows, batch_size=BATCH_SIZE)
        post_ids = await _ids(Post, [row.slug for row in rows])
        placed = [
            (post_id, position, heading, anchor, body)
            for post_id, post_sections in zip(post_ids, bodies, strict=True)
            for position, ((heading, body), anchor) in enumerate(
                zip(post_sections, assign_anchors(h for h, _ in post_sections), strict=True)
            )
        ]
        rendered = await render_bodies([body for *_, body in placed], fields=["body"] * len(placed))
        await Section.bulk_create(
            (
                Section(
                    post_id=post_id,
                    position=position,
                    heading=heading,
                    anchor=anchor,
                    body=body,
                    html=html,
                    plain_text=plain_text,
                )
                for (post_id, position, heading, anchor, body), (html, plain_text) in zip(
                    placed, rendered, strict=True
                )
            ),
            batch_size=BATCH_SIZE,
        )
        links = [
            PostTag(post_id=post_id, tag_id=tag_id)
            for post_id, chosen in zip(post_ids, tag_choices, strict=True)
            for tag_id in chosen
        ]
        await PostTag.bulk_create(links, batch_size=BATCH_SIZE)
        self.post_tags += len(links)

    def schedule(self, index: int) -> tuple[PostStatus, datetime | None]:
        # Fixed positions rather than dice, so that any run of 40 posts has one of each.
        offset = timedelta(seconds=self.rng.randrange(int(PUBLISHED_SPAN.total_seconds())))
        if index % 40 == 13:
            return PostStatus.DRAFT, None
        if index % 40 == 33:
            return PostStatus.SCHEDULED, SCHEDULED_AFTER + offset / 2
        return PostStatus.PUBLISHED, PUBLISHED_BEFORE - offset

    def sections(self, count: int) -> list[tuple[str | None, str]]:
        """``count`` (heading, body) pairs: mostly an intro first, at times a repeated heading."""
        headings: list[str | None] = []
        for position in range(count):
            if position == 0 and self.rng.random() < 0.8:
                headings.append(None)
            elif any(headings) and self.rng.random() < 0.08:
                headings.append(self.rng.choice([h for h in headings if h is not None]))
            else:
                headings.append(self.rng.choice(_HEADINGS))
        return [(heading, self.body()) for heading in headings]

    def body(self) -> str:
        paragraphs = [self.paragraph() for _ in range(self.rng.randint(1, 3))]
        if self.rng.random() < 0.15:
            paragraphs.append("\n".join(f"- {self.phrase()}" for _ in range(3)))
        return "\n\n".join(paragraphs)

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))

    def sentence(self) -> str:
        rng = self.rng
        subject = f"the {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
        obj = rng.choice(_NOUNS)
        if rng.random() < 0.2:
            obj = f"`{obj}`" if rng.random() < 0.5 else f"**{obj}**"
        tail = (
            f" {rng.choice(_PREPOSITIONS)} every {rng.choice(_NOUNS)}" if rng.random() < 0.6 else ""
        )
        text = f"{subject} {rng.choice(_VERBS)} the {obj}{tail}"
        return text[0].upper() + text[1:] + "."

    def phrase(self) -> str:
        rng = self.rng
        adjective, noun, preposition = (
            rng.choice(words) for words in (_ADJECTIVES, _NOUNS, _PREPOSITIONS)
        )
        return f"{adjective} {noun}s {preposition} {rng.choice(_TOPICS).lower()}"

    def title(self) -> str:
        rng = self.rng
        noun = rng.choice(_NOUNS)
        return rng.choice(_TITLE_PATTERNS).format(
            Adj=rng.choice(_ADJECTIVES).title(),
            Noun=noun.title(),
            Nouns=f"{noun.title()}s",
            Verb=rng.choice(_VERBS).title(),
            Topic=rng.choice(_TOPICS),
            Prep=rng.choice(_PREPOSITIONS).title(),
            Count=rng.choice(("Three", "Five", "Seven", "Ten")),
        )

    def qualified_topic(self) -> str:
        return f"{self.rng.choice(_ADJECTIVES).title()} {self.rng.choice(_TOPICS)}"


async def _ids(model: type[Author] | type[Tag] | type[Post], slugs: list[str]) -> list[int]:
    """The ids bulk_create assigned, in the order of ``slugs``."""
    by_slug = dict(await model.filter(slug__in=slugs).values_list("slug", "id"))
    return [by_slug[slug] for slug in slugs]
