from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from cms.models.accounts import Role
from cms.models.content import PostStatus


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Author",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=200)),
                ("slug", fields.CharField(unique=True, max_length=80)),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("bio", fields.TextField(default="", unique=False)),
                (
                    "role",
                    fields.CharEnumField(
                        default=Role.AUTHOR,
                        description="ADMIN: ADMIN\nEDITOR: EDITOR\nAUTHOR: AUTHOR",
                        enum_type=Role,
                        max_length=16,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "author", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Post",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("title", fields.CharField(max_length=200)),
                ("slug", fields.CharField(unique=True, max_length=80)),
                ("excerpt", fields.TextField(default="", unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=PostStatus.DRAFT,
                        description="DRAFT: DRAFT\nPUBLISHED: PUBLISHED\nSCHEDULED: SCHEDULED\nARCHIVED: ARCHIVED",
                        enum_type=PostStatus,
                        max_length=16,
                    ),
                ),
                (
                    "published_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("version", fields.IntField(default=1)),
                ("deleted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "author",
                    fields.ForeignKeyField(
                        "models.Author",
                        source_field="author_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="posts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
            ],
            options={
                "table": "post",
                "app": "models",
                "indexes": [
                    Index(
                        fields=["status", "published_at", "id"], name="post_status_published_idx"
                    ),
                    Index(fields=["author_id", "published_at"], name="post_author_published_idx"),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Section",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "post",
                    fields.ForeignKeyField(
                        "models.Post",
                        source_field="post_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="sections",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField()),
                ("heading", fields.CharField(null=True, max_length=200)),
                ("anchor", fields.CharField(max_length=100)),
                ("body", fields.TextField(unique=False)),
            ],
            options={
                "table": "section",
                "app": "models",
                "unique_together": (("post", "position"),),
                "pk_attr": "id",
                "table_description": "A run of markdown paragraphs under an optional heading, ordered by position.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Tag",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("name", fields.CharField(max_length=100)),
                ("slug", fields.CharField(unique=True, max_length=80)),
                ("description", fields.TextField(default="", unique=False)),
            ],
            options={"table": "tag", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PostTag",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "post",
                    fields.ForeignKeyField(
                        "models.Post",
                        source_field="post_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="tag_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "tag",
                    fields.ForeignKeyField(
                        "models.Tag",
                        source_field="tag_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="post_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "post_tag",
                "app": "models",
                "unique_together": (("tag", "post"),),
                "indexes": [Index(fields=["post_id", "tag_id"], name="post_tag_post_idx")],
                "pk_attr": "id",
                "table_description": "One link between a post and a tag.",
            },
            bases=["Model"],
        ),
    ]
