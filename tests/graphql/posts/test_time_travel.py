"""`post(asOf:)` and `Revision.diff(against:)`: reading a post's past and comparing versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from cms.models import Post, Revision, Role
from cms.services import authoring
from cms.services.authoring import PostChanges
from cms.services.validation import SectionInput
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import BASE_TIME, make_post
from tests.services.helpers import FakeClock

AS_OF = """
query AsOf($slug: String!, $asOf: DateTime) {
  post(slug: $slug, asOf: $asOf) {
    id title version status publishedAt updatedAt readingTimeMinutes
    tags { slug }
    sections { id heading anchor body }
  }
}
"""
DIFF = """
query Diff($slug: String!, $against: ID!) {
  post(slug: $slug) {
    revisions(first: 10) {
      edges { node { id version diff(against: $against) {
        fields { field old new }
        sections { kind moved oldPosition newPosition oldHeading newHeading anchor diff }
      } } }
    }
  }
}
"""
REVISION_IDS = """
query Ids($slug: String!) {
  post(slug: $slug) { revisions(first: 10) { edges { node { id version } } } }
}
"""


def at(hours: float) -> datetime:
    return BASE_TIME + timedelta(hours=hours)


def iso(moment: datetime) -> str:
    return moment.isoformat()


@dataclass
class History:
    post: Post
    author_headers: dict[str, str]


async def a_post_with_a_history(sign_in: SignIn) -> History:
    """v1 draft at +0h, v2 published at +1h, v3 rewritten at +2h, v4 unpublished at +3h."""
    session = await sign_in(Role.AUTHOR)
    from cms.auth.viewer import Viewer

    viewer = Viewer(author_id=session.author.id, role=Role.EDITOR)
    clock = FakeClock(at(0))
    post = await authoring.create_post(
        viewer,
        title="Tides",
        slug="tides",
        sections=[SectionInput(body="Low tide."), SectionInput(heading="Moon", body="It pulls.")],
        clock=clock,
    )
    clock.now = at(1)
    post = await authoring.publish_post(
        viewer, post_id=post.id, expected_version=post.version, clock=clock
    )
    clock.now = at(2)
    post = await authoring.update_post(
        viewer,
        post_id=post.id,
        expected_version=post.version,
        changes=PostChanges(
            title="Tides explained",
            sections=[
                SectionInput(heading="Moon", body="It pulls, twice a day."),
                SectionInput(body="Low tide."),
                SectionInput(heading="Sun", body="It pulls too."),
            ],
        ),
        clock=clock,
    )
    clock.now = at(3)
    post = await authoring.unpublish_post(
        viewer, post_id=post.id, expected_version=post.version, clock=clock
    )
    # Revisions are stamped by the database clock; put them where the story says they are.
    for revision in await Revision.filter(post_id=post.id):
        await Revision.filter(id=revision.id).update(created_at=at(revision.version - 1))
    return History(post=post, author_headers=session.headers)


async def test_anonymous_readers_see_a_post_as_it_was_while_it_was_public(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    await a_post_with_a_history(sign_in)

    then = (await graphql(AS_OF, {"slug": "tides", "asOf": iso(at(1.5))}))["data"]["post"]
    later = (await graphql(AS_OF, {"slug": "tides", "asOf": iso(at(2.5))}))["data"]["post"]

    assert (then["title"], then["version"], then["status"]) == ("Tides", 2, "PUBLISHED")
    assert [s["body"] for s in then["sections"]] == ["Low tide.", "It pulls."]
    assert (later["title"], later["version"]) == ("Tides explained", 3)
    assert [s["heading"] for s in later["sections"]] == ["Moon", None, "Sun"]
    assert later["updatedAt"].startswith("2026-01-01T14:00:00")
    assert later["readingTimeMinutes"] >= 1


@pytest.mark.parametrize(
    "hours",
    [
        pytest.param(-1, id="before-it-existed"),
        pytest.param(0.5, id="while-a-draft"),
        pytest.param(3.5, id="after-it-was-unpublished"),
    ],
)
async def test_anonymous_readers_see_nothing_when_the_post_was_not_public_then(
    graphql: GraphQLRunner, sign_in: SignIn, hours: float
) -> None:
    await a_post_with_a_history(sign_in)

    body = await graphql(AS_OF, {"slug": "tides", "asOf": iso(at(hours))})

    assert body["data"]["post"] is None


async def test_the_author_sees_the_drafts_of_the_past(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    history = await a_post_with_a_history(sign_in)

    body = await graphql(
        AS_OF, {"slug": "tides", "asOf": iso(at(0.5))}, headers=history.author_headers
    )

    assert body["data"]["post"]["status"] == "DRAFT"
    assert body["data"]["post"]["version"] == 1


async def test_past_sections_have_ids_of_their_own(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    await a_post_with_a_history(sign_in)

    body = await graphql(AS_OF, {"slug": "tides", "asOf": iso(at(1.5))})
    current = await Post.get(slug="tides").prefetch_related("sections")

    ids = [section["id"] for section in body["data"]["post"]["sections"]]
    assert len(set(ids)) == 2
    assert not {str(s.id) for s in current.sections} & set(ids)


async def test_a_future_moment_counts_as_now_so_schedules_stay_hidden(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.EDITOR)
    from cms.auth.viewer import Viewer

    viewer = Viewer(author_id=session.author.id, role=Role.EDITOR)
    post = await authoring.create_post(viewer, title="Soon", slug="soon")
    await authoring.publish_post(
        viewer,
        post_id=post.id,
        expected_version=post.version,
        at=datetime.now(BASE_TIME.tzinfo) + timedelta(days=1),
    )

    in_two_days = datetime.now(BASE_TIME.tzinfo) + timedelta(days=2)
    body = await graphql(AS_OF, {"slug": "soon", "asOf": iso(in_two_days)})

    assert body["data"]["post"] is None


async def test_a_post_without_revisions_is_its_current_self_once_it_was_last_changed(
    graphql: GraphQLRunner,
) -> None:
    post = await make_post(slug="imported", published_at=BASE_TIME)

    after = await graphql(AS_OF, {"slug": "imported", "asOf": iso(post.updated_at)})
    before = await graphql(
        AS_OF, {"slug": "imported", "asOf": iso(post.updated_at - timedelta(seconds=1))}
    )

    assert after["data"]["post"]["version"] == post.version
    assert before["data"]["post"] is None


async def test_an_as_of_without_a_time_zone_is_bad_user_input(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    await a_post_with_a_history(sign_in)

    body = await graphql(AS_OF, {"slug": "tides", "asOf": "2026-01-01T13:00:00"})

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def revision_ids(graphql: GraphQLRunner, headers: dict[str, str]) -> dict[int, str]:
    body = await graphql(REVISION_IDS, {"slug": "tides"}, headers=headers)
    edges = body["data"]["post"]["revisions"]["edges"]
    return {edge["node"]["version"]: edge["node"]["id"] for edge in edges}


async def test_a_revision_diff_lists_changed_fields_and_sections(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    history = await a_post_with_a_history(sign_in)
    ids = await revision_ids(graphql, history.author_headers)

    body = await graphql(DIFF, {"slug": "tides", "against": ids[2]}, headers=history.author_headers)

    v3 = next(
        edge["node"]
        for edge in body["data"]["post"]["revisions"]["edges"]
        if edge["node"]["version"] == 3
    )["diff"]
    assert v3["fields"] == [{"field": "title", "old": "Tides", "new": "Tides explained"}]
    kinds = [(s["kind"], s["anchor"], s["moved"]) for s in v3["sections"]]
    assert kinds == [("EDITED", "moon", True), ("ADDED", "sun", False)]
    assert "+It pulls, twice a day." in v3["sections"][0]["diff"]


async def test_a_diff_against_another_posts_revision_is_bad_user_input(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    history = await a_post_with_a_history(sign_in)
    other = await make_post(slug="other")
    other_revision = await Revision.create(
        post_id=other.id, version=1, mutation="createPost", snapshot={}
    )
    from cms.graphql.node import to_global_id

    for against in (to_global_id("Revision", other_revision.id), "garbage"):
        body = await graphql(
            DIFF, {"slug": "tides", "against": against}, headers=history.author_headers
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_former_author_reads_neither_the_history_nor_the_later_drafts(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    """Permission is decided on the post as it is now, never on the author of a past state."""
    from cms.auth.viewer import Viewer

    former, current = await sign_in(Role.AUTHOR), await sign_in(Role.AUTHOR)
    a = Viewer(author_id=former.author.id, role=Role.AUTHOR)
    b = Viewer(author_id=current.author.id, role=Role.AUTHOR)
    editor = Viewer(author_id=(await sign_in(Role.EDITOR)).author.id, role=Role.EDITOR)
    clock = FakeClock(at(0))
    post = await authoring.create_post(
        a, title="Tides", slug="tides", sections=[SectionInput(body="Low tide.")], clock=clock
    )
    clock.now = at(1)
    post = await authoring.publish_post(a, post_id=post.id, expected_version=1, clock=clock)
    clock.now = at(2)
    post = await authoring.update_post(
        editor,
        post_id=post.id,
        expected_version=post.version,
        changes=PostChanges(author_id=current.author.id),
        clock=clock,
    )
    clock.now = at(3)
    post = await authoring.unpublish_post(b, post_id=post.id, expected_version=3, clock=clock)
    post = await authoring.update_post(
        b,
        post_id=post.id,
        expected_version=post.version,
        changes=PostChanges(title="Secret plan", sections=[SectionInput(body="Private.")]),
        clock=clock,
    )
    for revision in await Revision.filter(post_id=post.id):
        await Revision.filter(id=revision.id).update(created_at=at(revision.version - 1))
    history = """
    query Past($asOf: DateTime) {
      post(slug: "tides", asOf: $asOf) {
        title author { id }
        revisions(first: 10) { edges { node { title sections { body } } } }
      }
    }
    """

    then = await graphql(history, {"asOf": iso(at(1.5))}, headers=former.headers)
    later = await graphql(history, {"asOf": iso(at(4.5))}, headers=former.headers)
    owner = await graphql(history, {"asOf": iso(at(1.5))}, headers=current.headers)

    # The post was public at +1.5h, by A: A may read that state, not the history since.
    assert then["data"]["post"]["title"] == "Tides"
    assert then["data"]["post"]["revisions"] is None
    assert then["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "Secret plan" not in str(then)
    assert later["data"]["post"] is None
    titles = [e["node"]["title"] for e in owner["data"]["post"]["revisions"]["edges"]]
    assert titles[0] == "Secret plan"
