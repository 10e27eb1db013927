from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

from cms.services.revision_store import split_history


async def _store_bodies_apart(apps, schema_editor) -> None:
    """Move each revision's section bodies to revision_body, once per post and content."""
    if schema_editor.collect_sql:
        return  # a data migration has no SQL to show
    db = schema_editor.client
    Revision = apps.get_model("models", "Revision")
    RevisionBody = apps.get_model("models", "RevisionBody")
    post_ids = await Revision.all().using_db(db).distinct().values_list("post_id", flat=True)
    for post_id in sorted(post_ids):
        known = set(
            await RevisionBody.filter(post_id=post_id).using_db(db).values_list("digest", flat=True)
        )
        pending = await (
            Revision.filter(post_id=post_id, sections__isnull=True).using_db(db).order_by("version")
        )
        history = split_history((revision.snapshot for revision in pending), known=known)
        for revision, (stored, new, added) in zip(pending, history):
            await RevisionBody.bulk_create(
                [RevisionBody(post_id=post_id, digest=d, body=b) for d, b in new.items()],
                using_db=db,
            )
            await Revision.filter(id=revision.id).using_db(db).update(
                snapshot=stored.fields, sections=stored.sections, stored_bytes=added
            )


async def _store_bodies_inline(apps, schema_editor) -> None:
    """Put the bodies back into each revision's snapshot, as before this migration."""
    if schema_editor.collect_sql:
        return
    db = schema_editor.client
    Revision = apps.get_model("models", "Revision")
    RevisionBody = apps.get_model("models", "RevisionBody")
    for revision in await Revision.filter(sections__isnull=False).using_db(db):
        bodies = dict(
            await RevisionBody.filter(post_id=revision.post_id)
            .using_db(db)
            .values_list("digest", "body")
        )
        sections = [
            {"heading": heading, "anchor": anchor, "body": bodies[digest]}
            for heading, anchor, digest in revision.sections
        ]
        await Revision.filter(id=revision.id).using_db(db).update(
            snapshot={**revision.snapshot, "sections": sections}, sections=None
        )

class Migration(migrations.Migration):
    dependencies = [('models', '0005_rendered_sections')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RevisionBody',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='revision_bodies', on_delete=OnDelete.CASCADE)),
                ('digest', fields.CharField(max_length=64)),
                ('body', fields.TextField(unique=False)),
            ],
            options={'table': 'revision_body', 'app': 'models', 'unique_together': (('post', 'digest'),), 'pk_attr': 'id', 'table_description': 'A section body some revision of a post holds, stored once per post and content.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Revision',
            name='sections',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Revision',
            name='stored_bytes',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddIndex(
            model_name='Revision',
            index=Index(fields=['editor_id', 'created_at'], name='revision_editor_recent_idx'),
        ),
        ops.RunPython(_store_bodies_apart, _store_bodies_inline),
    ]
