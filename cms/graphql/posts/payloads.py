"""The payloads of the post mutations: the written object, or errors saying why not.

Every payload has ``errors`` (empty on success). Those that change a post also have
``currentVersion``, set with a CONFLICT error: the version to reload and retry from.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Self

import strawberry

from cms.errors import CMSError, VersionConflict
from cms.graphql.context import Info
from cms.graphql.payloads import Payload, UserError
from cms.graphql.posts.types import Post, Section
from cms.models import Post as PostModel


def written(info: Info, post: PostModel) -> Post:
    """``post`` for a payload, with the request's cached sections and tags of it dropped.

    One document may hold several mutations (``addSection`` then ``moveSection``); without
    this, the second payload would show the sections the first one's loaders had cached.
    """
    for loader in (info.context.loaders.sections_by_post_id, info.context.loaders.tags_by_post_id):
        # Strawberry's clear() raises KeyError for a key it never cached.
        with suppress(KeyError):
            loader.clear(post.id)
    return Post.from_model(post)


@strawberry.type
class PostPayload(Payload):
    post: Post | None = strawberry.field(
        default=None, description="The post after the change; null if nothing was written."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
    current_version: int | None = strawberry.field(
        default=None,
        description="With a CONFLICT error: the post's current version, to retry against.",
    )

    @classmethod
    def failure(cls, exc: CMSError) -> Self:
        payload = super().failure(exc)
        if isinstance(exc, VersionConflict):
            payload.current_version = exc.current_version
        return payload


@strawberry.type
class CreatePostPayload(PostPayload):
    pass


@strawberry.type
class UpdatePostPayload(PostPayload):
    pass


@strawberry.type
class DeletePostPayload(PostPayload):
    pass


@strawberry.type
class RestorePostPayload(PostPayload):
    pass


@strawberry.type
class PublishPostPayload(PostPayload):
    pass


@strawberry.type
class UnpublishPostPayload(PostPayload):
    pass


@strawberry.type
class RestoreRevisionPayload(PostPayload):
    pass


@strawberry.type
class SectionPayload(PostPayload):
    section: Section | None = strawberry.field(
        default=None, description="The section written; null if nothing was (or once deleted)."
    )


@strawberry.type
class AddSectionPayload(SectionPayload):
    pass


@strawberry.type
class UpdateSectionPayload(SectionPayload):
    pass


@strawberry.type
class MoveSectionPayload(SectionPayload):
    pass


@strawberry.type
class DeleteSectionPayload(SectionPayload):
    pass


@strawberry.type
class CreatePreviewTokenPayload(Payload):
    token: str | None = strawberry.field(
        default=None,
        description="Send it as the `X-Preview-Token` header. Shown only this once.",
    )
    expires_at: datetime | None = None
    post: Post | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
