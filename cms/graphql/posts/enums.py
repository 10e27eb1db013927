"""Enums of the post types, apart so that every post module can import them without cycles."""

from __future__ import annotations

import strawberry

from cms.models import PostStatus as PostStatusModel

PostStatus = strawberry.enum(PostStatusModel, description="Where a post is in its life.")
