"""The schema contract: what changed between a published schema and the code's, and may it ship.

:func:`compare` lists graphql-core's breaking and dangerous changes between an old schema (the
published SDL) and a new one. A breaking change blocks, unless the old schema had deprecated
the element it removes or changes with a sunset date that has passed (the date written by
``cms.graphql.deprecation.deprecated``, read back from the old schema's deprecation reason):

- a removed or retyped field or input field, a removed or retyped argument, a removed enum
  value: allowed on or after the element's sunset;
- a removed type: allowed when everything in the old schema that referred to it was itself
  allowed to go (a deprecated field's return type, say), so one sunset can retire a subtree;
- anything else (a type changing kind, a required argument added, ...): always blocks, since
  nothing could have warned clients about it.

Dangerous changes (an enum value added, a default changed, ...) never block; they are listed
so that a reviewer sees them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from graphql import (
    BreakingChangeType,
    DangerousChangeType,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    get_named_type,
)
from graphql.utilities.find_schema_changes import find_schema_changes

from cms.errors import InvalidInput
from cms.graphql.deprecation import parse_dates

__all__ = ["Change", "Comparison", "NoBaseline", "compare", "compare_sdl", "read_baseline"]

# Breaking changes that a deprecation with a past sunset allows, by what they are about.
_ELEMENT_CHANGES = {
    BreakingChangeType.FIELD_REMOVED,
    BreakingChangeType.FIELD_CHANGED_KIND,
    BreakingChangeType.ARG_REMOVED,
    BreakingChangeType.ARG_CHANGED_KIND,
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM,
}

# Schema coordinates in graphql-core's messages: Type.field, Type.field(arg:), Enum.VALUE.
_NAME = r"[_A-Za-z][_0-9A-Za-z]*"
_COORDINATE = re.compile(rf"\b({_NAME})\.({_NAME})(?:\(({_NAME}):\))?")
_REMOVED_TYPE = re.compile(rf"^({_NAME}) was removed\.$")
_OWNER = re.compile(_NAME)


@dataclass(frozen=True)
class Change:
    """One difference between the schemas, as graphql-core describes it."""

    kind: str  # BreakingChangeType / DangerousChangeType name, e.g. FIELD_REMOVED
    description: str
    breaking: bool
    # For a breaking change that may ship: why ("Post.readingTime's sunset 2027-03-01 passed").
    allowed_because: str | None = None

    @property
    def blocks(self) -> bool:
        return self.breaking and self.allowed_because is None


@dataclass
class Comparison:
    """Every change found, breaking ones first."""

    changes: list[Change] = field(default_factory=list)

    @property
    def blocking(self) -> list[Change]:
        return [change for change in self.changes if change.blocks]

    @property
    def ok(self) -> bool:
        return not self.blocking


def compare(old: GraphQLSchema, new: GraphQLSchema, *, today: date) -> Comparison:
    """The changes from ``old`` to ``new``, each breaking one judged against ``today``."""
    raw = find_schema_changes(old, new)
    breaking = [change for change in raw if isinstance(change.type, BreakingChangeType)]
    removed_types = {
        match.group(1)
        for change in breaking
        if change.type is BreakingChangeType.TYPE_REMOVED
        and (match := _REMOVED_TYPE.match(change.description))
    }
    retirement = _Retirement(old, today, removed_types)
    # Elements first: whether a removed type may go depends on which of them may.
    reasons = {
        id(change): retirement.judge_element(change.description)
        for change in breaking
        if change.type in _ELEMENT_CHANGES
    }
    comparison = Comparison()
    for change in breaking:
        if change.type is BreakingChangeType.TYPE_REMOVED:
            match = _REMOVED_TYPE.match(change.description)
            reason = retirement.judge_type(match.group(1)) if match else None
        else:
            reason = reasons.get(id(change))
        comparison.changes.append(
            Change(change.type.name, change.description, breaking=True, allowed_because=reason)
        )
    comparison.changes.extend(
        Change(change.type.name, change.description, breaking=False)
        for change in raw
        if isinstance(change.type, DangerousChangeType)
    )
    return comparison


class _Retirement:
    """Decides, from the old schema, which removals the sunsets allow by ``today``."""

    def __init__(self, old: GraphQLSchema, today: date, removed_types: set[str]) -> None:
        self.old = old
        self.today = today
        self.removed_types = removed_types
        self.allowed: set[str] = set()  # coordinates whose sunset has passed

    def judge_element(self, description: str) -> str | None:
        match = _COORDINATE.search(description)
        if match is None:
            return None
        type_name, member, argument = match.groups()
        coordinate = f"{type_name}.{member}" + (f"({argument}:)" if argument else "")
        _, sunset = parse_dates(self._deprecation_reason(type_name, member, argument))
        if sunset is None or sunset > self.today:
            return None
        self.allowed.add(coordinate)
        return f"{coordinate} was deprecated with sunset {sunset.isoformat()}, which has passed"

    def judge_type(self, name: str, visiting: frozenset[str] = frozenset()) -> str | None:
        """Why removed type ``name`` may go: everything that used it may go too."""
        references = list(_references(self.old, name))
        if name not in self.removed_types or not references:
            return None
        for reference in references:
            owner = _OWNER.match(reference).group(0)  # type: ignore[union-attr]
            if owner == name or owner in visiting or reference in self.allowed:
                continue
            if owner in self.removed_types and self.judge_type(owner, visiting | {name}):
                continue
            return None
        return f"{name} was only used by elements that may be removed"

    def _deprecation_reason(self, type_name: str, member: str, argument: str | None) -> str | None:
        named = self.old.type_map.get(type_name)
        if isinstance(named, GraphQLEnumType):
            value = named.values.get(member)
            return value.deprecation_reason if value else None
        if isinstance(named, GraphQLInputObjectType):
            input_field = named.fields.get(member)
            return input_field.deprecation_reason if input_field and not argument else None
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return None
        field_def: GraphQLField | None = named.fields.get(member)
        if field_def is None:
            return None
        if argument is None:
            return field_def.deprecation_reason
        arg = field_def.args.get(argument)
        return arg.deprecation_reason if arg else None


def _references(schema: GraphQLSchema, type_name: str) -> Iterator[str]:
    """Coordinates in ``schema`` whose type is ``type_name``, or that list it as a member."""
    for named in schema.type_map.values():
        if named.name.startswith("__"):
            continue
        yield from _references_in(named, type_name)


def _references_in(named: GraphQLNamedType, type_name: str) -> Iterator[str]:
    if isinstance(named, GraphQLUnionType):
        if any(member.name == type_name for member in named.types):
            yield f"{named.name}|{type_name}"  # never in `allowed`: unions must change first
        return
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        if any(interface.name == type_name for interface in named.interfaces):
            yield f"{named.name}&{type_name}"
        for field_name, field_def in named.fields.items():
            if get_named_type(field_def.type).name == type_name:
                yield f"{named.name}.{field_name}"
            for arg_name, arg in field_def.args.items():
                if get_named_type(arg.type).name == type_name:
                    yield f"{named.name}.{field_name}({arg_name}:)"
    elif isinstance(named, GraphQLInputObjectType):
        for field_name, input_field in named.fields.items():
            if get_named_type(input_field.type).name == type_name:
                yield f"{named.name}.{field_name}"


class NoBaseline(Exception):
    """Raised when there is nothing to compare against: a first commit, or a shallow clone."""


def read_baseline(against: str, *, schema_path: Path) -> tuple[str, str]:
    """The published SDL to compare with, and where it came from.

    ``against`` is a file when one exists at that path, else a git revision whose copy of
    ``schema_path`` is read. Raises :class:`NoBaseline` when the revision or the file at that
    revision does not exist, and ``InvalidInput`` when neither reading is possible.
    """
    path = Path(against)
    if path.is_file():
        return str(path), path.read_text(encoding="utf-8")
    if path.suffix in {".graphql", ".gql"}:
        raise InvalidInput(f"{against}: no such file", field="against")
    git = shutil.which("git")
    if git is None:
        raise InvalidInput(f"{against} is not a file, and git is not installed", field="against")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            [git, *args], capture_output=True, text=True, check=False, timeout=30
        )

    if run("rev-parse", "--git-dir").returncode != 0:
        raise InvalidInput(f"{against} is not a file, and this is not a git work tree")
    if run("rev-parse", "--verify", "--quiet", f"{against}^{{commit}}").returncode != 0:
        raise NoBaseline(
            f"{against} is not a commit in this clone (a first commit, or a shallow clone?)"
        )
    location = f"{against}:./{schema_path.as_posix()}"
    shown = run("show", location)
    if shown.returncode != 0:
        raise NoBaseline(f"{schema_path} does not exist at {against}")
    return location, shown.stdout


def compare_sdl(old_sdl: str, new_sdl: str, *, today: date) -> Comparison:
    """:func:`compare` on two printed schemas."""
    return compare(build_schema(old_sdl), build_schema(new_sdl), today=today)
