"""JSON export and restore: lossless round trips, no secrets, and validation before writing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from tortoise import connections

from cms.auth.tokens import issue_token
from cms.content.generate import generate_content
from cms.content.importer import import_plaintext
from cms.content.jsonexport import export_bytes, export_document
from cms.content.jsonformat import json_schema_text
from cms.content.jsonimport import ExportInvalid, parse_export, restore
from cms.content.plaintext import parse_plaintext
from cms.errors import Conflict
from cms.models import Author, Post, PostStatus, Revision, Role, Section, Tag, TokenKind
from cms.services import authoring
from cms.services.authoring import PostChanges
from cms.services.validation import SectionInput
from tests.conftest import POSTGRES_URL, TABLES
from tests.content.samples import SAMPLE
from tests.factories import make_post
from tests.services.helpers import viewer_for

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "export.schema.json"


async def empty_database() -> None:
    """What the ``db`` fixture does before each test, for a second, empty database state."""
    connection = connections.get("default")
    if POSTGRES_URL:
        await connection.execute_script(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    else:
        for table in TABLES:
            await connection.execute_script(f'DELETE FROM "{table}"')  # noqa: S608


async def assert_round_trip_is_lossless() -> bytes:
    exported = await export_bytes()
    await empty_database()

    await restore(parse_export(exported))

    assert await export_bytes() == exported
    return exported


async def add_history() -> None:
    """Revisions, a trashed post, a draft, a password and a token: what a live site holds."""
    viewer, editor = await viewer_for(Role.EDITOR, password_hash="argon2id$secret-hash")
    await issue_token(
        author_id=editor.id,
        kind=TokenKind.API,
        name="ci",
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    post = await authoring.create_post(
        viewer, title="Drafted", sections=[SectionInput(heading="One", body="First words.")]
    )
    post = await authoring.update_post(
        viewer,
        post_id=post.id,
        expected_version=post.version,
        changes=PostChanges(
            title="Redrafted", excerpt='Now with an excerpt, ünïcode and "quotes".'
        ),
    )
    trashed = await make_post(slug="trashed", status=PostStatus.PUBLISHED)
    await authoring.delete_post(viewer, post_id=trashed.id)


async def test_the_sample_with_history_survives_a_round_trip_byte_for_byte() -> None:
    await import_plaintext(parse_plaintext(SAMPLE.read_text(encoding="utf-8")), author_slug=None)
    await add_history()

    exported = await assert_round_trip_is_lossless()

    document = orjson.loads(exported)
    assert len(document["posts"]) == 7
    assert any(post["deleted_at"] for post in document["posts"])
    assert sum(len(post["revisions"]) for post in document["posts"]) >= 3


async def test_generated_content_survives_a_round_trip_byte_for_byte() -> None:
    await generate_content(posts=60, tags=4, authors=3, sections=3, seed=3)

    await assert_round_trip_is_lossless()


async def test_exports_hold_no_password_hash_or_token() -> None:
    await add_history()

    exported = await export_bytes()

    assert b"secret-hash" not in exported
    assert b"password" not in exported
    assert b"digest" not in exported
    document = orjson.loads(exported)
    assert all("email" in author for author in document["authors"])


async def test_restored_authors_cannot_sign_in_until_given_a_password() -> None:
    await add_history()
    exported = await export_bytes()
    await empty_database()

    await restore(parse_export(exported))

    assert await Author.filter(password_hash__isnull=False).count() == 0


async def test_new_rows_after_a_restore_get_fresh_ids() -> None:
    await generate_content(posts=5, tags=2, authors=1, sections=2, seed=1)
    exported = await export_bytes()
    await empty_database()
    await restore(parse_export(exported))
    document = orjson.loads(exported)
    last_post = document["posts"][-1]

    tag = await Tag.create(name="Fresh", slug="fresh")
    section = await Section.create(post_id=last_post["id"], position=99, anchor="x", body="New.")

    assert tag.id == document["tags"][-1]["id"] + 1
    assert section.id == last_post["sections"][-1]["id"] + 1


async def test_a_restore_refuses_a_database_that_holds_content() -> None:
    await generate_content(posts=3, tags=1, authors=1, sections=1, seed=1)
    document = parse_export(await export_bytes())

    with pytest.raises(Conflict, match="empty database"):
        await restore(document)


async def test_a_dry_run_counts_rows_and_writes_nothing() -> None:
    await generate_content(posts=4, tags=2, authors=1, sections=2, seed=1)
    exported = await export_bytes()
    await empty_database()

    report = await restore(parse_export(exported), dry_run=True)

    assert report.dry_run
    assert report.counts["post"] == 4
    assert report.counts["section"] == 8
    assert await Post.all().count() == 0
    assert "would import" in str(report)


def valid_document() -> dict[str, Any]:
    moment = "2026-01-01T12:00:00.000000Z"
    return {
        "format": "cms-export",
        "version": 1,
        "authors": [
            {
                "id": 1,
                "name": "Ada",
                "slug": "ada",
                "email": "ada@example.org",
                "bio": "",
                "role": "ADMIN",
                "is_active": True,
                "created_at": moment,
            }
        ],
        "tags": [{"id": 1, "name": "News", "slug": "news", "description": ""}],
        "posts": [
            {
                "id": 1,
                "title": "Hello",
                "slug": "hello",
                "excerpt": "",
                "status": "PUBLISHED",
                "published_at": moment,
                "created_at": moment,
                "updated_at": moment,
                "version": 1,
                "deleted_at": None,
                "author_id": 1,
                "tags": [1],
                "sections": [{"id": 1, "heading": None, "anchor": "intro", "body": "Hi."}],
                "revisions": [],
            }
        ],
    }


async def test_a_hand_written_document_restores() -> None:
    await restore(parse_export(orjson.dumps(valid_document())))

    post = await Post.get(slug="hello")
    assert post.updated_at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert await post.sections.all().count() == 1


def test_validation_reports_every_problem_with_its_json_path() -> None:
    document = valid_document()
    second = copy.deepcopy(document["posts"][0])
    second["id"] = 2  # same slug as the first post
    second["sections"] = [
        {"id": 2, "heading": "A", "anchor": "a", "body": "x\x00y"},
        {"id": 3, "heading": "A", "anchor": "a", "body": "ok"},
    ]
    second["author_id"] = 9
    second["tags"] = [1, 7]
    second["status"] = "LIVE"
    second["published_at"] = "2026-01-01T12:00:00"  # no time zone
    second["surprise"] = True
    document["posts"].append(second)
    del document["tags"][0]["description"]
    document["authors"][0]["slug"] = "Not A Slug"

    with pytest.raises(ExportInvalid) as caught:
        parse_export(orjson.dumps(document))

    paths = {problem.path for problem in caught.value.problems}
    assert paths == {
        "$.authors[0].slug",
        "$.tags[0].description",
        "$.posts[1].status",
        "$.posts[1].published_at",
        "$.posts[1].surprise",
        "$.posts[1].sections[0].body",
        "$.posts[1].slug",
        "$.posts[1].author_id",
        "$.posts[1].tags[1]",
        "$.posts[1].sections[1].anchor",
    }


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        pytest.param(b"{not json", "$", id="not-json"),
        pytest.param(b"[]", "$.format", id="not-an-object"),
        pytest.param(b'{"format": "other"}', "$.format", id="other-format"),
        pytest.param(b'{"format": "cms-export", "version": 2}', "$.version", id="other-version"),
    ],
)
def test_files_that_are_not_exports_are_refused_before_anything_else(raw: bytes, path: str) -> None:
    with pytest.raises(ExportInvalid) as caught:
        parse_export(raw)
    assert path in {problem.path for problem in caught.value.problems}


async def test_an_invalid_file_writes_nothing() -> None:
    document = valid_document()
    document["posts"][0]["author_id"] = 5

    with pytest.raises(ExportInvalid):
        await restore(parse_export(orjson.dumps(document)))

    assert await Author.all().count() == 0


async def test_an_export_matches_the_published_json_schema() -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    await add_history()
    document = await export_document()

    validator = jsonschema_rs.validator_for(orjson.loads(SCHEMA_FILE.read_bytes()))
    assert list(validator.iter_errors(document)) == []


def test_the_published_json_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "schema/export.schema.json is stale: run "
        "`.venv/bin/python -m cms.content.jsonformat > schema/export.schema.json`"
    )


async def test_revision_snapshots_come_back_unchanged() -> None:
    await add_history()
    before = {r.id: r.snapshot for r in await Revision.all()}
    exported = await export_bytes()
    await empty_database()

    await restore(parse_export(exported))

    assert {r.id: r.snapshot for r in await Revision.all()} == before
