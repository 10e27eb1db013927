"""Tortoise ORM models: the content model (posts, sections, tags) and the people who write it."""

from cms.models.accounts import Author, Role
from cms.models.content import Post, PostStatus, PostTag, Section, Tag

__all__ = ["Author", "Post", "PostStatus", "PostTag", "Role", "Section", "Tag"]
