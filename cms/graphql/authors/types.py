"""The Author object type (the public face of an account: no email, no role)."""

from __future__ import annotations

import strawberry

from cms.graphql.node import Node, to_global_id
from cms.graphql.pagination import Connection
from cms.graphql.posts.queries import resolve_posts
from cms.graphql.posts.types import Post
from cms.graphql.rows import from_row
from cms.models import Author as AuthorModel


@strawberry.type(description="Someone who writes posts.")
class Author(Node):
    pk: strawberry.Private[int]
    name: str
    slug: str
    bio: str

    posts: Connection[Post] = strawberry.field(
        resolver=resolve_posts, description="This author's visible posts."
    )

    @classmethod
    def from_model(cls, author: AuthorModel) -> Author:
        return from_row(cls, author, id=to_global_id("Author", author.id), pk=author.id)
