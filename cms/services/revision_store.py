"""Content-addressed revision storage: each section body is stored once per post and content.

A revision row holds the post's own fields (``snapshot``) and an index of its sections
(``sections``: ``[heading, anchor, digest]`` each). The bodies live in ``revision_body``, keyed by
the post and the SHA-256 of the body, so moving a section or editing one writes the small row
plus the one new body, not a copy of the whole post. ``split`` and ``join`` turn a whole
snapshot (``cms.services.snapshots.Snapshot``) into the stored form and back, exactly.

Bodies are shared within a post only: they go with the post when it is purged (foreign keys
cascade), and what the pruning of old revisions may free is found by reading one post's history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import orjson

from cms.models import Revision, RevisionBody

# Digests looked up per query.
_BATCH = 500

SectionIndex = list[list[str | None]]
"""One ``[heading, anchor, digest]`` per section, in reading order."""


def digest_of(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class StoredSnapshot:
    """A snapshot as it is stored: the revision's two columns and the bodies they refer to."""

    fields: dict[str, Any]
    sections: SectionIndex | None
    bodies: dict[str, str]

    @property
    def row_bytes(self) -> int:
        """The size of the revision's own columns, as JSON."""
        return len(orjson.dumps(self.fields)) + len(orjson.dumps(self.sections))


def split(snapshot: Mapping[str, Any]) -> StoredSnapshot:
    """``snapshot`` as stored; kept whole when its sections are not in the shape snapshots take."""
    sections = snapshot.get("sections")
    if not _indexable(sections):
        return StoredSnapshot(fields=dict(snapshot), sections=None, bodies={})
    bodies = {digest_of(section["body"]): section["body"] for section in sections}
    return StoredSnapshot(
        fields={key: value for key, value in snapshot.items() if key != "sections"},
        sections=[
            [section["heading"], section["anchor"], digest_of(section["body"])]
            for section in sections
        ],
        bodies=bodies,
    )


def split_history(
    snapshots: Iterable[Mapping[str, Any]], *, known: Iterable[str] = ()
) -> Iterator[tuple[StoredSnapshot, dict[str, str], int]]:
    """One post's snapshots, oldest first, as stored: each with the bodies it is the first to
    hold (none of ``known``) and the bytes it adds. For writing a whole history at once."""
    seen = set(known)
    for snapshot in snapshots:
        stored = split(snapshot)
        new = {digest: body for digest, body in stored.bodies.items() if digest not in seen}
        seen.update(new)
        yield stored, new, stored.row_bytes + _size(new)


def join(revision: Revision, bodies: Mapping[str, str]) -> dict[str, Any]:
    """The whole snapshot of ``revision``; ``bodies`` maps its digests to their text."""
    if revision.sections is None:
        return revision.snapshot
    return {
        **revision.snapshot,
        "sections": [
            {"heading": heading, "anchor": anchor, "body": bodies[str(digest)]}
            for heading, anchor, digest in revision.sections
        ],
    }


async def write_bodies(post_id: int, bodies: Mapping[str, str]) -> int:
    """Store the bodies the post's history lacks; returns the bytes that added."""
    if not bodies:
        return 0
    stored = RevisionBody.filter(post_id=post_id, digest__in=list(bodies)).values("digest")
    known = {row["digest"] for row in await stored}
    new = {digest: body for digest, body in bodies.items() if digest not in known}
    # Writers of one post are serialised by its version claim; ignoring a conflict covers the
    # rest (a restore of a JSON export racing nothing, a retried transaction) at no cost.
    await RevisionBody.bulk_create(
        (RevisionBody(post_id=post_id, digest=d, body=b) for d, b in new.items()),
        ignore_conflicts=True,
    )
    return _size(new)


async def bodies_for(revisions: Sequence[Revision]) -> dict[int, dict[str, str]]:
    """For each post among ``revisions``, the bodies they refer to, by digest.

    One query per ``_BATCH`` digests, so that a whole export stays within the databases' limits
    on bound parameters.
    """
    digests = sorted({str(ref[2]) for revision in revisions for ref in revision.sections or ()})
    found: dict[int, dict[str, str]] = {revision.post_id: {} for revision in revisions}
    for start in range(0, len(digests), _BATCH):
        rows = RevisionBody.filter(
            post_id__in=list(found), digest__in=digests[start : start + _BATCH]
        ).values_list("post_id", "digest", "body")
        for post_id, digest, body in await rows:
            found[post_id][digest] = body
    return found


async def load_snapshots(revisions: Sequence[Revision]) -> dict[int, dict[str, Any]]:
    """The whole snapshot of each of ``revisions``, by revision id."""
    bodies = await bodies_for(revisions)
    return {revision.id: join(revision, bodies[revision.post_id]) for revision in revisions}


async def drop_unused_bodies(post_id: int) -> None:
    """Delete the post's bodies that none of its revisions refers to any more."""
    used: set[str] = set()
    for index in await Revision.filter(post_id=post_id, sections__isnull=False).values_list(
        "sections", flat=True
    ):
        used.update(str(ref[2]) for ref in index)
    stored = await RevisionBody.filter(post_id=post_id).values_list("id", "digest")
    unused = [body_id for body_id, digest in stored if digest not in used]
    if unused:
        await RevisionBody.filter(id__in=unused).delete()


def _size(bodies: Mapping[str, str]) -> int:
    return sum(len(body.encode()) for body in bodies.values())


def _indexable(sections: Any) -> TypeGuard[list[dict[str, Any]]]:
    return isinstance(sections, list) and all(
        isinstance(section, dict)
        and section.keys() == {"heading", "anchor", "body"}
        and isinstance(section["heading"], str | None)
        and isinstance(section["anchor"], str)
        and isinstance(section["body"], str)
        for section in sections
    )
