"""Authors: the people who write posts, and the role each has in the CMS."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Role(StrEnum):
    """What an author may do. Anonymous readers have no role at all."""

    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    AUTHOR = "AUTHOR"


class Author(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=80, unique=True)
    email = fields.CharField(max_length=254, unique=True)
    bio = fields.TextField(default="")
    role = fields.CharEnumField(Role, max_length=16, default=Role.AUTHOR)
    # An argon2id hash; null for authors who cannot log in (imported bylines, the house author).
    password_hash = fields.CharField(max_length=255, null=True)
    is_active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "author"
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


# Longer user agents are cut: the column is for recognising a device, not for forensics.
USER_AGENT_LENGTH = 255
# An IPv6 address with a zone index fits; anything longer is cut.
CLIENT_ADDRESS_LENGTH = 64


class TokenKind(StrEnum):
    SESSION = "SESSION"  # issued by login, ended by logout
    API = "API"  # created by hand for scripts and services, shown once


class ApiToken(Model):
    """A bearer credential. Only the SHA-256 digest of the secret is stored."""

    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyRelation[Author] = fields.ForeignKeyField(
        "models.Author", related_name="tokens", on_delete=fields.CASCADE
    )
    author_id: int
    kind = fields.CharEnumField(TokenKind, max_length=16)
    name = fields.CharField(max_length=100)
    # The first characters of the secret, kept so that people can tell their tokens apart.
    prefix = fields.CharField(max_length=16)
    digest = fields.CharField(max_length=64, unique=True)
    scopes: fields.Field[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    # Where a session was signed in from, so that its owner can tell their sessions apart.
    # Empty for API tokens and for sessions older than these columns.
    user_agent = fields.CharField(max_length=USER_AGENT_LENGTH, default="")
    client_address = fields.CharField(max_length=CLIENT_ADDRESS_LENGTH, default="")

    class Meta:
        table = "api_token"
