"""Relay global object identification: the Node interface and its opaque ids."""

from __future__ import annotations

import base64
import binascii

import strawberry

from cms.errors import InvalidInput
from cms.services.inputs import is_storable_id


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global id; pass it to `node(id:)`.")


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.b64encode(f"{type_name}:{pk}".encode()).decode())


def from_global_id(global_id: str) -> tuple[str, int]:
    """The type name and primary key inside a global id; BAD_USER_INPUT if it is not one."""
    try:
        decoded = base64.b64decode(global_id.encode("ascii"), validate=True).decode()
        type_name, _, raw_pk = decoded.partition(":")
        pk = int(raw_pk)
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidInput(f"{global_id!r} is not a valid id.", field="id") from exc
    if not type_name or not is_storable_id(pk):
        raise InvalidInput(f"{global_id!r} is not a valid id.", field="id")
    return type_name, pk


def pk_of(global_id: str, type_name: str, *, field: str = "id") -> int:
    """The primary key inside ``global_id``; BAD_USER_INPUT on ``field`` unless it names a
    ``type_name``."""
    try:
        found, pk = from_global_id(global_id)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field=field) from exc
    if found != type_name:
        raise InvalidInput(f"{global_id!r} is not the id of a {type_name}.", field=field)
    return pk
