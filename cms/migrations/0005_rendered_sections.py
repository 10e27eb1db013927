"""Store each section's rendered HTML and plain text beside its body, so reads never render.

The columns are added, then every existing row is rendered, in batches, through the same
bounded renderer as a write. They stay nullable: SQLite cannot add a NOT NULL column without a
default, nor rebuild the table while the search triggers of 0003 refer to it. A stored body the
bounds now refuse (written before they existed) is stored as its escaped text in a <pre>, and
its plain text is the body itself: the migration must not fail on old content.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from cms.errors import InvalidInput
from cms.rendering.workers import render_bodies, render_or_escape

BATCH = 200


async def render_existing(apps, schema_editor) -> None:
    section = apps.get_model("models", "Section")
    connection = schema_editor.client
    last = 0
    while True:
        rows = await (
            section.filter(id__gt=last).order_by("id").limit(BATCH)
            .using_db(connection).values("id", "body")
        )
        if not rows:
            return
        bodies = [row["body"] for row in rows]
        try:
            rendered = await render_bodies(bodies, fields=["body"] * len(bodies))
        except InvalidInput:  # one refused body: render the batch one by one
            rendered = [await render_or_escape(body) for body in bodies]
        for row, (html, plain_text) in zip(rows, rendered):
            await section.filter(id=row["id"]).using_db(connection).update(
                html=html, plain_text=plain_text
            )
        last = rows[-1]["id"]


class Migration(migrations.Migration):
    dependencies = [('models', '0004_webhooks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Section',
            name='html',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Section',
            name='plain_text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.RunPython(render_existing),
    ]
