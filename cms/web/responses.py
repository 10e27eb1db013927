"""Errors answered before (or outside) GraphQL, shaped like GraphQL's own.

A client reads every refusal of /graphql the same way: a JSON ``errors`` list whose entries
carry a message and a stable ``extensions.code``, whether GraphQL produced it or the transport
(size, media type, rate) did. There is no ``data`` entry: nothing was executed.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

__all__ = ["error_body", "error_response"]

JSON = "application/json"


def error_body(message: str, code: str, **extensions: object) -> bytes:
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return orjson.dumps({"errors": [error]})


def error_response(
    status: int,
    message: str,
    code: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: object,
) -> Response:
    return Response(
        error_body(message, code, **extensions),
        status_code=status,
        headers=dict(headers or {}),
        media_type=JSON,
    )
