"""What changed between two revisions of a post: its fields, and section by section.

A pure function over two snapshots (``cms.services.snapshots``), so it needs no database.

Sections are matched across the two snapshots before they are compared:

1. when every section of both snapshots carries an ``id``, by id;
2. otherwise by heuristics, each applied to the sections still unmatched:
   a. the same heading and body (an untouched section, perhaps moved);
   b. the same anchor (the same heading, or its n-th repeat: ``setup-2``), so an edited body
      under an unchanged heading stays one section;
   c. similar bodies (difflib ratio at least 0.5), best pairs first, so a renamed section whose
      text barely changed is "edited", not "removed" plus "added".

Whatever is left is removed (only in the old snapshot) or added (only in the new one). Of the
matched sections, the fewest that explain the new order count as moved: those outside the
longest run that kept its relative order. A section is EDITED when its heading or body
changed (``moved`` then says whether it also changed place), MOVED when only its place changed;
unchanged sections are left out.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

SIMILARITY_THRESHOLD = 0.5
# Pairs compared for similarity at most; beyond it, bodies are too many to pair by content.
MAX_SIMILARITY_PAIRS = 2500
# Post fields compared, in the order they are reported.
FIELDS = ("title", "slug", "excerpt", "status", "published_at", "author_id", "tags")


class SectionChangeKind(StrEnum):
    ADDED = "ADDED"
    REMOVED = "REMOVED"
    MOVED = "MOVED"
    EDITED = "EDITED"


@dataclass(frozen=True)
class SectionChange:
    kind: SectionChangeKind
    old_position: int | None
    new_position: int | None
    old_heading: str | None
    new_heading: str | None
    # The section's anchor in the new snapshot, or in the old one when it was removed.
    anchor: str
    moved: bool
    # A unified diff of the body (EDITED with a changed body); None otherwise.
    diff: str | None


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class SnapshotDiff:
    fields: list[FieldChange]
    sections: list[SectionChange]

    @property
    def is_empty(self) -> bool:
        return not self.fields and not self.sections


def diff_snapshots(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    old_label: str = "old",
    new_label: str = "new",
) -> SnapshotDiff:
    """The changes that lead from ``old`` to ``new``; labels name them in text diffs."""
    fields = [
        FieldChange(field=name, old=_text(old.get(name)), new=_text(new.get(name)))
        for name in FIELDS
        if _text(old.get(name)) != _text(new.get(name))
    ]
    old_sections: Sequence[Mapping[str, Any]] = old.get("sections") or []
    new_sections: Sequence[Mapping[str, Any]] = new.get("sections") or []
    pairs = match_sections(old_sections, new_sections)
    moved = _moved(pairs)
    changes: list[SectionChange] = []
    for old_index, new_index in pairs:
        before = old_sections[old_index] if old_index is not None else None
        after = new_sections[new_index] if new_index is not None else None
        change = _change(
            before,
            after,
            old_index,
            new_index,
            moved=(old_index, new_index) in moved,
            labels=(old_label, new_label),
        )
        if change is not None:
            changes.append(change)
    changes.sort(key=_reading_order)
    return SnapshotDiff(fields=fields, sections=changes)


def match_sections(
    old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]
) -> list[tuple[int | None, int | None]]:
    """Pairs of (old index, new index); None on one side for removed or added sections."""
    if old and new and all("id" in s for s in (*old, *new)):
        return _pair_by(old, new, lambda s: s["id"], range(len(old)), range(len(new)))[0]
    pairs: list[tuple[int | None, int | None]] = []
    free_old, free_new = list(range(len(old))), list(range(len(new)))
    for key in (lambda s: (s.get("heading"), s.get("body")), lambda s: s.get("anchor")):
        found, free_old, free_new = _pair_by(old, new, key, free_old, free_new)
        pairs += found
    found, free_old, free_new = _pair_similar(old, new, free_old, free_new)
    pairs += found
    pairs += [(i, None) for i in free_old]
    pairs += [(None, j) for j in free_new]
    return pairs


def _pair_by(
    old: Sequence[Mapping[str, Any]],
    new: Sequence[Mapping[str, Any]],
    key: Any,
    free_old: Sequence[int],
    free_new: Sequence[int],
) -> tuple[list[tuple[int | None, int | None]], list[int], list[int]]:
    """Pair free sections with equal keys, in order of appearance on both sides."""
    waiting: dict[Any, list[int]] = defaultdict(list)
    for i in free_old:
        waiting[_hashable(key(old[i]))].append(i)
    pairs: list[tuple[int | None, int | None]] = []
    unmatched_new: list[int] = []
    for j in free_new:
        queue = waiting.get(_hashable(key(new[j])))
        if queue:
            pairs.append((queue.pop(0), j))
        else:
            unmatched_new.append(j)
    matched_old = {i for i, _ in pairs}
    return pairs, [i for i in free_old if i not in matched_old], unmatched_new


def _pair_similar(
    old: Sequence[Mapping[str, Any]],
    new: Sequence[Mapping[str, Any]],
    free_old: list[int],
    free_new: list[int],
) -> tuple[list[tuple[int | None, int | None]], list[int], list[int]]:
    if not free_old or not free_new or len(free_old) * len(free_new) > MAX_SIMILARITY_PAIRS:
        return [], free_old, free_new
    scored: list[tuple[float, int, int, int]] = []
    for i in free_old:
        for j in free_new:
            matcher = difflib.SequenceMatcher(None, old[i].get("body", ""), new[j].get("body", ""))
            # quick_ratio bounds ratio from above: skip the costly ratio when it cannot pass.
            if matcher.quick_ratio() < SIMILARITY_THRESHOLD:
                continue
            ratio = matcher.ratio()
            if ratio >= SIMILARITY_THRESHOLD:
                scored.append((-ratio, abs(i - j), i, j))
    pairs: list[tuple[int | None, int | None]] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    for _, _, i, j in sorted(scored):
        if i not in used_old and j not in used_new:
            pairs.append((i, j))
            used_old.add(i)
            used_new.add(j)
    return (
        pairs,
        [i for i in free_old if i not in used_old],
        [j for j in free_new if j not in used_new],
    )


def _moved(pairs: list[tuple[int | None, int | None]]) -> set[tuple[int | None, int | None]]:
    """Matched pairs outside the longest run that kept its order: the fewest moves."""
    matched = sorted((i, j) for i, j in pairs if i is not None and j is not None)
    kept = _longest_increasing(matched)
    return {(i, j) for i, j in matched if (i, j) not in kept}


def _longest_increasing(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by old index) with increasing new index."""
    best: list[int] = []  # lengths of the longest run ending at each pair
    previous: list[int] = []
    for index, (_, j) in enumerate(pairs):
        length, before = 1, -1
        for earlier in range(index):
            if pairs[earlier][1] < j and best[earlier] + 1 > length:
                length, before = best[earlier] + 1, earlier
        best.append(length)
        previous.append(before)
    if not pairs:
        return set()
    cursor = max(range(len(pairs)), key=lambda k: best[k])
    kept: set[tuple[int, int]] = set()
    while cursor != -1:
        kept.add(pairs[cursor])
        cursor = previous[cursor]
    return kept


def _change(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    old_index: int | None,
    new_index: int | None,
    *,
    moved: bool,
    labels: tuple[str, str],
) -> SectionChange | None:
    diff = None
    if before is None:
        kind = SectionChangeKind.ADDED
    elif after is None:
        kind = SectionChangeKind.REMOVED
    elif before.get("heading") != after.get("heading") or before.get("body") != after.get("body"):
        kind = SectionChangeKind.EDITED
        if before.get("body") != after.get("body"):
            diff = _unified_diff(before, after, labels)
    elif moved:
        kind = SectionChangeKind.MOVED
    else:
        return None
    return SectionChange(
        kind=kind,
        old_position=old_index,
        new_position=new_index,
        old_heading=before.get("heading") if before else None,
        new_heading=after.get("heading") if after else None,
        anchor=str((after or before or {}).get("anchor", "")),
        moved=moved,
        diff=diff,
    )


def _unified_diff(
    before: Mapping[str, Any], after: Mapping[str, Any], labels: tuple[str, str]
) -> str:
    lines = difflib.unified_diff(
        str(before.get("body", "")).splitlines(),
        str(after.get("body", "")).splitlines(),
        fromfile=f"{labels[0]}#{before.get('anchor', '')}",
        tofile=f"{labels[1]}#{after.get('anchor', '')}",
        lineterm="",
    )
    return "\n".join(lines) + "\n"


def _reading_order(change: SectionChange) -> tuple[int, int]:
    # Sections in their new order; a removed section where it used to be, before what took
    # its place.
    if change.new_position is not None:
        return (change.new_position, 1)
    assert change.old_position is not None  # noqa: S101
    return (change.old_position, 0)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
