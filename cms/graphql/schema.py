"""The root schema, composed from the per-domain query types."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext

from cms.graphql.authors.queries import AuthorQueries
from cms.graphql.errors import ErrorCodes
from cms.graphql.node_lookup import NodeQueries
from cms.graphql.posts.queries import PostQueries
from cms.graphql.tags.queries import TagQueries


@strawberry.type
class Query(PostQueries, TagQueries, AuthorQueries, NodeQueries):
    """Everything a reader can ask for."""


class CMSSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes has already logged what deserves it; client mistakes are not server logs.
        return None


def build_schema(**kwargs: Any) -> strawberry.Schema:
    return CMSSchema(
        query=Query,
        extensions=[ErrorCodes, ParserCache, ValidationCache],
        **kwargs,
    )


schema = build_schema()
