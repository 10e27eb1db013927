"""The root schema, composed from the per-domain query and mutation types."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.types import ExecutionContext

from cms.graphql.accounts import AccountMutations, AccountQueries
from cms.graphql.authors.queries import AuthorQueries
from cms.graphql.compiled import CompiledExecutor
from cms.graphql.deprecation import DeprecationTracker
from cms.graphql.errors import ErrorCodes
from cms.graphql.guard import OperationGuard, ParserCache, ValidationCache
from cms.graphql.node_lookup import NodeQueries
from cms.graphql.observability import OperationObserver
from cms.graphql.permissions import RejectInvalidCredentials
from cms.graphql.posts.mutations import PostMutations
from cms.graphql.posts.previews import PreviewTokenMutations
from cms.graphql.posts.queries import PostQueries
from cms.graphql.posts.section_mutations import SectionMutations
from cms.graphql.search import SearchQueries
from cms.graphql.subscriptions import Subscription
from cms.graphql.tags.mutations import TagMutations
from cms.graphql.tags.queries import TagQueries
from cms.graphql.webhooks import WebhookMutations, WebhookQueries


@strawberry.type
class Query(
    PostQueries,
    SearchQueries,
    TagQueries,
    AuthorQueries,
    AccountQueries,
    WebhookQueries,
    NodeQueries,
):
    """Everything a reader can ask for."""


@strawberry.type
class Mutation(
    AccountMutations,
    PostMutations,
    PreviewTokenMutations,
    SectionMutations,
    TagMutations,
    WebhookMutations,
):
    """Everything that changes content or accounts."""


class CMSSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes has already logged what deserves it; client mistakes are not server logs.
        return None


def build_schema(**kwargs: Any) -> strawberry.Schema:
    return CMSSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # OperationObserver comes first so that it finishes last, seeing the final error codes.
        extensions=[
            OperationObserver,
            ErrorCodes,
            RejectInvalidCredentials,
            ParserCache,
            ValidationCache,
            DeprecationTracker,
            # Last, so that its limits are checked after the others have had their say
            # (a bad token is refused first) and its timeout wraps execution innermost.
            OperationGuard,
        ],
        **kwargs,
    )


# Hot reads run from compiled plans; everything else as graphql-core runs it (see there).
schema = build_schema(execution_context_class=CompiledExecutor)
