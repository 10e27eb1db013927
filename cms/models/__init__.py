"""Tortoise ORM models: the content model (posts, sections, tags) and the people who write it."""

from cms.models.accounts import ApiToken, Author, Role, TokenKind
from cms.models.content import Post, PostStatus, PostTag, PreviewToken, Revision, Section, Tag

__all__ = [
    "ApiToken",
    "Author",
    "Post",
    "PostStatus",
    "PostTag",
    "PreviewToken",
    "Revision",
    "Role",
    "Section",
    "Tag",
    "TokenKind",
]
