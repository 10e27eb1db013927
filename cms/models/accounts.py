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
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "author"
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name
