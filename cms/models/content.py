"""Posts, their ordered sections, and the tags that group them.

Tags link to posts through an explicit ``post_tag`` table rather than Tortoise's implicit
many-to-many table, so that both directions of the link have an index of their own.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from cms.models.accounts import Author


class PostStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    SCHEDULED = "SCHEDULED"
    ARCHIVED = "ARCHIVED"


class Tag(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=100)
    slug = fields.CharField(max_length=80, unique=True)
    description = fields.TextField(default="")

    class Meta:
        table = "tag"
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class Post(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=80, unique=True)
    excerpt = fields.TextField(default="")
    status = fields.CharEnumField(PostStatus, max_length=16, default=PostStatus.DRAFT)
    published_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # Bumped by every change to the post or its sections; writers compare it to detect conflicts.
    version = fields.IntField(default=1)
    # Set when the post is moved to the trash; trashed posts are invisible everywhere.
    deleted_at = fields.DatetimeField(null=True)
    author: fields.ForeignKeyRelation[Author] = fields.ForeignKeyField(
        "models.Author", related_name="posts", on_delete=fields.RESTRICT
    )
    author_id: int

    class Meta:
        table = "post"
        # The public lists read the generated ``listed`` column and its indexes, which
        # migration 0009 adds outside the model: no write may ever name that column.
        indexes = (
            # Due scheduled posts (the scheduler) and editors' lists by status.
            Index(fields=("status", "published_at", "id"), name="post_status_published_idx"),
        )

    def __str__(self) -> str:
        return self.title


class PostTag(Model):
    """One link between a post and a tag."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="tag_links", on_delete=fields.CASCADE
    )
    post_id: int
    tag: fields.ForeignKeyRelation[Tag] = fields.ForeignKeyField(
        "models.Tag", related_name="post_links", on_delete=fields.CASCADE
    )
    tag_id: int

    class Meta:
        table = "post_tag"
        # Leading with tag_id serves "a tag's posts"; the second index serves "a post's tags".
        # Migration 0009 adds copies of the post's ``listed`` and ``published_at``, kept by
        # triggers, so that a tag's page is one index range (``cms.services.post_lists``).
        unique_together = (("tag", "post"),)
        indexes = (Index(fields=("post_id", "tag_id"), name="post_tag_post_idx"),)


class Section(Model):
    """A run of markdown paragraphs under an optional heading, ordered by position."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="sections", on_delete=fields.CASCADE
    )
    post_id: int
    position = fields.IntField()
    heading = fields.CharField(max_length=200, null=True)
    # Derived from the heading when sections are written; unique within the post.
    anchor = fields.CharField(max_length=100)
    body = fields.TextField()
    # The body rendered when it was written (cms.rendering.workers), so that reads never render.
    # Nullable only because SQLite cannot add a NOT NULL column without a default (nor alter
    # one while the search triggers watch the table); every write path fills them.
    html = fields.TextField(null=True)
    plain_text = fields.TextField(null=True)

    class Meta:
        table = "section"
        unique_together = (("post", "position"),)


class Revision(Model):
    """An immutable snapshot of a post and its sections, taken after each change.

    Section bodies are stored once per post and content (``RevisionBody``); ``sections`` lists
    each section as ``[heading, anchor, body digest]``, so a change writes its post fields, this
    index and only the bodies the post's history did not hold yet (``cms.services.revision_store``).
    """

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="revisions", on_delete=fields.CASCADE
    )
    post_id: int
    # Equals the post's version right after the change the revision records.
    version = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)
    editor: fields.ForeignKeyNullableRelation[Author] = fields.ForeignKeyField(
        "models.Author", related_name="revisions", null=True, on_delete=fields.SET_NULL
    )
    editor_id: int | None
    mutation = fields.CharField(max_length=50)
    # The post's own fields (title, slug, status, tags...). Holds ``sections`` too, whole, only
    # when the ``sections`` column is null: a snapshot imported in a shape the index cannot hold.
    snapshot: fields.Field[dict[str, Any]] = fields.JSONField()
    sections: fields.Field[list[list[str | None]] | None] = fields.JSONField(null=True)
    # Bytes this revision added to the database (snapshot, index, new bodies): the editor's quota.
    stored_bytes = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "revision"
        unique_together = (("post", "version"),)
        # The per-editor quota sums an editor's recent revisions.
        indexes = (Index(fields=("editor_id", "created_at"), name="revision_editor_recent_idx"),)


class RevisionBody(Model):
    """A section body some revision of a post holds, stored once per post and content."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="revision_bodies", on_delete=fields.CASCADE
    )
    post_id: int
    # SHA-256 of the body's UTF-8 bytes, in hex.
    digest = fields.CharField(max_length=64)
    body = fields.TextField()

    class Meta:
        table = "revision_body"
        unique_together = (("post", "digest"),)


class PreviewToken(Model):
    """Lets an anonymous frontend read one post's current draft until the token expires."""

    id = fields.IntField(primary_key=True)
    post: fields.ForeignKeyRelation[Post] = fields.ForeignKeyField(
        "models.Post", related_name="preview_tokens", on_delete=fields.CASCADE
    )
    post_id: int
    digest = fields.CharField(max_length=64, unique=True)
    created_by: fields.ForeignKeyNullableRelation[Author] = fields.ForeignKeyField(
        "models.Author", related_name="preview_tokens", null=True, on_delete=fields.SET_NULL
    )
    created_by_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "preview_token"
