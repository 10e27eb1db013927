"""`Revision.diff(against:)`: what changed between two revisions of one post."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from cms.errors import InvalidInput
from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.models import Revision as RevisionModel
from cms.services import revision_diff
from cms.services.snapshots import load_snapshots

SectionChangeKind = strawberry.enum(
    revision_diff.SectionChangeKind,
    name="SectionChangeKind",
    description="ADDED and REMOVED: only on one side. EDITED: heading or body changed (it may "
    "also have moved; see `moved`). MOVED: same heading and body, another place.",
)

AGAINST_HELP = (
    "Another revision of the same post: the diff tells what changed from that revision to "
    "this one (pass an older revision to read it forwards)."
)


@strawberry.type(description="A post field that differs between the two revisions.")
class FieldChange:
    field: str = strawberry.field(
        description="`title`, `slug`, `excerpt`, `status`, `published_at`, `author_id` or "
        "`tags` (slugs joined by `, `)."
    )
    old: str | None
    new: str | None


@strawberry.type(description="One section that differs between the two revisions.")
class SectionChange:
    kind: SectionChangeKind  # type: ignore[valid-type]
    moved: bool = strawberry.field(description="Whether the section changed place.")
    old_position: int | None = strawberry.field(description="Null for an added section.")
    new_position: int | None = strawberry.field(description="Null for a removed section.")
    old_heading: str | None
    new_heading: str | None
    anchor: str = strawberry.field(
        description="The section's anchor in this revision (in the other one if removed)."
    )
    diff: str | None = strawberry.field(
        description="A unified diff of the body (difflib), when the body changed; else null."
    )


@strawberry.type(description="Changes from `against` to this revision.")
class RevisionDiff:
    fields: list[FieldChange]
    sections: list[SectionChange] = strawberry.field(
        description="In this revision's reading order; removed sections where they were. "
        "Sections are matched by content, anchor, then similar text (see the README)."
    )


async def resolve_revision_diff(
    root: Any,
    info: Info,
    against: Annotated[strawberry.ID, strawberry.argument(description=AGAINST_HELP)],
) -> RevisionDiff:
    """``root`` is a Revision the viewer could read, so its post is one they may edit."""
    other_id = pk_of(against, "Revision", field="against")
    revisions = {
        revision.id: revision
        for revision in await RevisionModel.filter(id__in=[root.pk, other_id], post_id=root.post_id)
    }
    if other_id not in revisions:
        raise InvalidInput(f"{against!r} is not a revision of this post.", field="against")
    base, target = revisions[other_id], revisions[root.pk]
    snapshots = await load_snapshots([base, target])
    diff = revision_diff.diff_snapshots(
        dict(snapshots[base.id]),
        dict(snapshots[target.id]),
        old_label=f"v{base.version}",
        new_label=f"v{target.version}",
    )
    return RevisionDiff(
        fields=[FieldChange(field=f.field, old=f.old, new=f.new) for f in diff.fields],
        sections=[
            SectionChange(
                kind=c.kind,
                moved=c.moved,
                old_position=c.old_position,
                new_position=c.new_position,
                old_heading=c.old_heading,
                new_heading=c.new_heading,
                anchor=c.anchor,
                diff=c.diff,
            )
            for c in diff.sections
        ],
    )
