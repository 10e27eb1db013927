"""The checks of `post(id:, slug:)`, made once for the resolver and for the compiled path."""

from __future__ import annotations

from dataclasses import dataclass

from cms.errors import InvalidInput
from cms.graphql.node import pk_of
from cms.services.inputs import check_slug


@dataclass(frozen=True)
class PostLookup:
    """Which post is asked for: by primary key or by slug, exactly one of them."""

    post_id: int | None
    slug: str | None


def post_lookup(global_id: str | None, slug: str | None) -> PostLookup:
    """The post the arguments name; BAD_USER_INPUT unless exactly one names a post well."""
    if (global_id is None) == (slug is None):
        raise InvalidInput("Give exactly one of `id` and `slug`.", field="id")
    if global_id is not None:
        return PostLookup(pk_of(global_id, "Post", field="id"), None)
    check_slug(slug, field="slug")
    return PostLookup(None, slug)
