"""`cms import` of posts that exist is a change like the API's: revisions, webhooks, purges,
and a conditional write that refuses to overwrite a concurrent edit."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cms.auth.viewer import Viewer
from cms.content.importer import ImportConflict, apply_import, import_plaintext, plan_import
from cms.content.plaintext import ParsedFile, parse_plaintext
from cms.models import Post, Revision, Role, Section, WebhookDelivery
from cms.services import authoring
from cms.services.authoring import PostChanges
from cms.services.events import ContentChanged, events
from cms.services.snapshots import load_snapshot
from cms.settings import Settings
from tests.cache.conftest import (  # noqa: F401 - the fixtures
    StartApp,
    needs_redis,
    redis,
    redis_url,
    start_app,
)
from tests.factories import make_author
from tests.ops.servers import cms
from tests.webhooks.conftest import make_webhook

ORIGINAL = """Tag: Tides

  • Low Tide

    The sea goes out.

    The Moon

    It pulls.

  • High Tide

    The sea comes in.
"""
EDITED = ORIGINAL.replace("It pulls.", "It pulls, twice a day.")
AS_OF = """
query AsOf($asOf: DateTime) {
  post(slug: "low-tide", asOf: $asOf) { version sections { body } }
}
"""
CURRENT = '{ post(slug: "low-tide") { version sections { body } } }'


def parsed(text: str) -> ParsedFile:
    return parse_plaintext(text)


async def test_importing_the_same_file_twice_records_no_second_revision() -> None:
    await import_plaintext(parsed(ORIGINAL), author_slug=None)
    revisions = await Revision.all().order_by("id").values_list("id", "version", "mutation")

    report = await import_plaintext(parsed(ORIGINAL), author_slug=None)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert await Revision.all().order_by("id").values_list("id", "version", "mutation") == (
        revisions
    )
    assert [mutation for _, _, mutation in revisions] == ["import", "import"]
    assert await Post.filter(version=1).count() == 2


async def test_a_changed_file_is_one_revision_a_webhook_and_a_purge_per_changed_post() -> None:
    await import_plaintext(parsed(ORIGINAL), author_slug=None)
    await make_webhook()
    heard: list[ContentChanged] = []

    async def listen(event: ContentChanged) -> None:
        heard.append(event)

    unsubscribe = events.subscribe(listen)
    try:
        report = await import_plaintext(parsed(EDITED), author_slug=None)
    finally:
        unsubscribe()

    low = await Post.get(slug="low-tide")
    assert (report.updated, report.unchanged) == (1, 1)
    assert low.version == 2
    (revision,) = await Revision.filter(post_id=low.id, version=2)
    assert revision.mutation == "import"
    assert revision.editor_id is None
    assert (await load_snapshot(revision))["sections"][1]["body"] == "It pulls, twice a day."
    assert await Revision.filter(version=2).count() == 1
    (delivery,) = await WebhookDelivery.all()
    assert delivery.event == "post.updated"
    assert '"slug":"low-tide"' in delivery.body
    assert [(e.kind, e.post_ids) for e in heard] == [("post.updated", frozenset({low.id}))]
    assert heard[0].tag_ids
    assert heard[0].author_ids == frozenset({low.author_id})


async def test_a_cached_read_and_the_past_follow_the_import(start_app: StartApp) -> None:  # noqa: F811
    await import_plaintext(parsed(ORIGINAL), author_slug=None)
    app = await start_app()
    before = (await app.post(CURRENT)).json()["data"]["post"]
    assert before["sections"][1]["body"] == "It pulls."
    between = datetime.now(UTC)

    await import_plaintext(parsed(EDITED), author_slug=None)

    after = (await app.post(CURRENT)).json()["data"]["post"]
    assert (after["version"], after["sections"][1]["body"]) == (2, "It pulls, twice a day.")
    then = (await app.post(AS_OF, {"asOf": between.isoformat()})).json()["data"]["post"]
    now = (await app.post(AS_OF, {"asOf": datetime.now(UTC).isoformat()})).json()
    assert (then["version"], then["sections"][1]["body"]) == (1, "It pulls.")
    assert now["data"]["post"]["sections"][1]["body"] == "It pulls, twice a day."


async def test_an_edit_between_reading_and_writing_fails_the_import_and_changes_nothing() -> None:
    await import_plaintext(parsed(ORIGINAL), author_slug=None)
    await make_webhook()
    low = await Post.get(slug="low-tide")
    plan = await plan_import(parsed(EDITED.replace("comes in", "rises")), author_slug=None)
    # Someone edits a post of the file after the import read it.
    editor = await make_author(role=Role.EDITOR)
    await authoring.update_post(
        Viewer(author_id=editor.id, role=Role.EDITOR),
        post_id=low.id,
        expected_version=1,
        changes=PostChanges(title="Low Tide, revised"),
    )
    deliveries = await WebhookDelivery.all().count()

    with pytest.raises(ImportConflict, match="'low-tide' changed while the file was being") as err:
        await apply_import(plan)

    assert err.value.code == "CONFLICT"
    assert "version 1 was read, it is now at 2" in err.value.message
    low = await Post.get(id=low.id)
    assert (low.title, low.version) == ("Low Tide, revised", 2)
    assert await Section.get(post_id=low.id, position=1).values_list("body", flat=True) == (
        "It pulls."
    )
    high = await Post.get(slug="high-tide")
    assert high.version == 1
    assert await Revision.filter(mutation="import").count() == 2
    assert await WebhookDelivery.all().count() == deliveries


@needs_redis
async def test_cms_import_purges_what_servers_cached_in_redis(
    start_app: StartApp,  # noqa: F811
    redis_url: str,  # noqa: F811
    settings: Settings,
    tmp_path: Path,
) -> None:
    """`cms import` runs in a process of its own: the servers' shared cache must hear it."""
    await import_plaintext(parsed(ORIGINAL), author_slug=None)
    server = await start_app(redis_url=redis_url)
    await server.post(CURRENT)
    assert (await server.post(CURRENT)).headers["x-cache"] == "HIT"
    edited = tmp_path / "tides.txt"
    edited.write_text(EDITED, encoding="utf-8")

    result = cms(
        "import",
        str(edited),
        env={**os.environ, "CMS_DATABASE_URL": settings.database_url, "CMS_REDIS_URL": redis_url},
    )

    assert result.returncode == 0, result.stderr
    fresh = await server.post(CURRENT)
    assert fresh.headers["x-cache"] == "MISS"
    assert fresh.json()["data"]["post"]["sections"][1]["body"] == "It pulls, twice a day."
