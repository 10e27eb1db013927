"""`from_row` reads the fields named like a row's columns and leaves the rest alone."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import strawberry

from cms.graphql.rows import from_row


@strawberry.type
class Thing:
    id: strawberry.ID
    name: str
    note: strawberry.Private[str | None] = None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


def test_fields_come_from_the_row_unless_computed() -> None:
    row = SimpleNamespace(id=7, name="lamp", note="a column the type leaves to its default")
    thing = from_row(Thing, row, id=strawberry.ID("Thing:7"))
    assert (thing.id, thing.name, thing.note) == ("Thing:7", "lamp", None)


def test_a_row_without_a_field_the_type_needs_is_an_error() -> None:
    with pytest.raises(AttributeError, match="name"):
        from_row(Thing, SimpleNamespace(id=7))


def test_a_mapping_of_columns_reads_like_a_model_instance() -> None:
    thing = from_row(Thing, {"id": 7, "name": "lamp"}, id=strawberry.ID("Thing:7"))
    assert (thing.id, thing.name) == ("Thing:7", "lamp")
    with pytest.raises(KeyError, match="name"):
        from_row(Thing, {"id": 7})
