"""Every mutation payload can say why its mutation failed: errors, and nothing else."""

from __future__ import annotations

import pytest

from cms.errors import NotFound
from cms.graphql.payloads import Payload
from cms.graphql.schema import schema


def _payloads() -> list[type[Payload]]:
    mutation = schema.get_type_by_name("Mutation")
    assert mutation is not None
    types = {field.type for field in mutation.fields}
    return sorted(types, key=lambda payload: payload.__name__)


@pytest.mark.parametrize("payload", _payloads(), ids=lambda payload: payload.__name__)
def test_a_failure_payload_holds_the_errors_and_nulls(payload: type[Payload]) -> None:
    failed = payload.failure(NotFound("No post 'p'.", field="id"))
    assert [(e.code, e.field, e.message) for e in failed.errors] == [
        ("NOT_FOUND", "id", "No post 'p'.")
    ]
    others = {name: value for name, value in vars(failed).items() if name != "errors"}
    assert all(value is None for value in others.values()), others
