"""The differential harness: every request goes to two apps, compiled reads on and off.

Both apps share the test database and have the response cache off, so that every request is
executed. ``differ`` posts the same request to each and fails unless the statuses and bodies
are byte-identical and the compiled answer names at least the content the standard one does
in ``Surrogate-Key`` (what purges a cached copy); it returns the body and which executor
answered the compiled app, read from ``cms_graphql_executions_total``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cms.app import create_app
from cms.graphql.compiled import EXECUTIONS
from cms.models import Author, Post, PostStatus, Tag
from cms.settings import Settings
from tests.factories import make_author, make_post, make_tag

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Answer:
    body: bytes
    path: str  # "compiled" or "standard": which executor answered the compiled app

    @property
    def compiled(self) -> bool:
        return self.path == "compiled"


Differ = Callable[..., Awaitable[Answer]]


def _compiled_count() -> float:
    return EXECUTIONS.labels(path="compiled", reason="planned")._value.get()


@asynccontextmanager
async def app_client(settings: Settings, **changes: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update=changes), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def compiled_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, cache=False, compiled_reads=True) as client:
        yield client


@pytest.fixture
async def standard_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(settings, cache=False, compiled_reads=False) as client:
        yield client


def _keys(response: httpx.Response) -> set[str]:
    return set(response.headers.get("surrogate-key", "").split())


@pytest.fixture
def differ(compiled_client: httpx.AsyncClient, standard_client: httpx.AsyncClient) -> Differ:
    """``await differ(query, variables, headers=...)``: both answers, asserted identical."""

    async def run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        payload = {"query": query, "variables": variables}
        before = _compiled_count()
        compiled = await compiled_client.post("/graphql", json=payload, headers=headers)
        path = "compiled" if _compiled_count() > before else "standard"
        standard = await standard_client.post("/graphql", json=payload, headers=headers)
        assert compiled.status_code == standard.status_code, (query, variables)
        assert compiled.content == standard.content, (
            f"{query}\nvariables: {variables}\ncompiled: {compiled.content[:2000]!r}\n"
            f"standard: {standard.content[:2000]!r}"
        )
        assert _keys(compiled) >= _keys(standard), (query, _keys(compiled), _keys(standard))
        for header in ("deprecation", "sunset", "cache-control"):
            assert compiled.headers.get(header) == standard.headers.get(header), header
        return Answer(compiled.content, path)

    return run


@dataclass(frozen=True)
class Library:
    """A small catalogue with every awkward case the read API has."""

    authors: list[Author]
    tags: list[Tag]
    posts: list[Post]
    draft: Post
    trashed: Post


async def build_library() -> Library:
    ada = await make_author(name="Ada", slug="ada", bio="Writes about databases.")
    bob = await make_author(name="bob", slug="bob")  # lowercase: collations disagree on it
    emile = await make_author(name="Émile", slug="emile")
    await make_author(name="Zed", slug="zed")  # no posts at all
    databases = await make_tag("Databases", slug="databases", description="Rows & columns")
    apple = await make_tag("apple", slug="apple")
    zebra = await make_tag("Zebra", slug="zebra")
    eclair = await make_tag("Éclair", slug="eclair")
    await make_tag("Empty", slug="empty")
    tags = [databases, apple, zebra, eclair]
    authors = [ada, bob, emile]
    sections = (
        (None, "An intro with <script>alert(1)</script> and **bold** text."),
        ("Setup", "Run `make`.\n\n```sh\nmake test\n```"),
        ("Setup", "A second *setup*, so the anchor becomes setup-2."),
    )
    posts = []
    for n in range(14):
        # Pairs of posts share a publication time, so that ids break the ties.
        published = NOW - timedelta(days=30) + timedelta(hours=(n // 2) * 5)
        posts.append(
            await make_post(
                title=f"{'Ünïcode' if n % 5 == 0 else 'Post'} {n:02d}",
                slug=f"post-{n:02d}",
                author=authors[n % 3],
                tags=tuple(tags[i] for i in range(4) if (n + i) % 3 == 0),
                sections=sections[: n % 4],
                published_at=published,
                excerpt=f"Excerpt {n}",
            )
        )
    await make_post(
        title="Scheduled, live",
        slug="scheduled-live",
        author=ada,
        tags=(databases,),
        status=PostStatus.SCHEDULED,
        published_at=NOW - timedelta(hours=1),
    )
    await make_post(
        title="Scheduled, future",
        slug="scheduled-future",
        author=ada,
        tags=(databases,),
        status=PostStatus.SCHEDULED,
        published_at=NOW + timedelta(days=3),
    )
    draft = await make_post(
        title="Draft",
        slug="draft",
        author=bob,
        tags=(apple,),
        status=PostStatus.DRAFT,
        published_at=None,
    )
    trashed = await make_post(
        title="Trashed",
        slug="trashed",
        author=ada,
        tags=(databases, apple),
        published_at=NOW - timedelta(days=2),
        deleted_at=NOW - timedelta(days=1),
    )
    return Library(authors=authors, tags=tags, posts=posts, draft=draft, trashed=trashed)


@pytest.fixture
async def library() -> Library:
    return await build_library()
