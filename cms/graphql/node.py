"""Relay global object identification: the Node interface and its opaque ids."""

from __future__ import annotations

import base64
import binascii

import strawberry

from cms.errors import InvalidInput


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
    if not type_name or pk < 1:
        raise InvalidInput(f"{global_id!r} is not a valid id.", field="id")
    return type_name, pk
