"""The JSON export format, version 1: its records as pydantic models, and its JSON Schema.

The models are the format's one definition: ``cms import`` validates files with them, and
``schema/export.schema.json`` is printed from them (``python -m cms.content.jsonformat``; a
test fails when the file and the models differ). docs/export-format.md describes the format
for people.

Text limits are the columns' limits, not the (stricter) ones of the editing API: an export
must import again whatever the database held.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from cms.models import PostStatus, Role
from cms.services.inputs import MAX_SLUG_LENGTH
from cms.services.validation import SLUG_PATTERN

FORMAT = "cms-export"
VERSION = 1
SCHEMA_ID = "https://cms.invalid/schema/export.schema.json"


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text, so no export holds one and no import may.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1, description="The row's id, kept on import.")]
Slug = Annotated[
    str, Field(min_length=1, max_length=MAX_SLUG_LENGTH, pattern=f"^{SLUG_PATTERN.pattern}$")
]
Moment = Annotated[AwareDatetime, Field(description="ISO 8601 with a time zone; exported in UTC.")]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class AuthorRecord(_Record):
    """An author. Password hashes and tokens are never exported; emails are, as accounts are
    identified by them."""

    id: Id
    name: Text = Field(min_length=1, max_length=200)
    slug: Slug
    email: Text = Field(min_length=1, max_length=254)
    bio: Text
    role: Role
    is_active: bool
    created_at: Moment


class TagRecord(_Record):
    id: Id
    name: Text = Field(min_length=1, max_length=100)
    slug: Slug
    description: Text


class SectionRecord(_Record):
    """A section; its position is its place in the post's list."""

    id: Id
    heading: Text | None = Field(max_length=200)
    anchor: Text = Field(min_length=1, max_length=100)
    body: Text


class RevisionRecord(_Record):
    id: Id
    version: Annotated[int, Field(ge=1)]
    created_at: Moment
    editor_id: Id | None
    mutation: Text = Field(min_length=1, max_length=50)
    snapshot: dict[str, Any] = Field(description="The post as it was, kept exactly.")


class PostRecord(_Record):
    id: Id
    title: Text = Field(min_length=1, max_length=200)
    slug: Slug
    excerpt: Text
    status: PostStatus
    published_at: Moment | None
    created_at: Moment
    updated_at: Moment
    version: Annotated[int, Field(ge=1)]
    deleted_at: Moment | None
    author_id: Id
    tags: list[Id] = Field(description="Ids of the post's tags, ascending.")
    sections: list[SectionRecord] = Field(description="In reading order.")
    revisions: list[RevisionRecord] = Field(description="Oldest first.")


class ExportDocument(_Record):
    """A whole CMS: every author, tag and post, with the posts' sections and revisions."""

    format: Literal["cms-export"]
    version: Literal[1]
    authors: list[AuthorRecord] = Field(description="By id.")
    tags: list[TagRecord] = Field(description="By id.")
    posts: list[PostRecord] = Field(description="By id.")


def json_schema() -> dict[str, Any]:
    """The format's JSON Schema (draft 2020-12), as published in schema/export.schema.json."""
    schema = ExportDocument.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "cms export, version 1",
    }


def json_schema_text() -> str:
    return orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2).decode() + "\n"


if __name__ == "__main__":
    sys.stdout.write(json_schema_text())
