"""Tag names unique regardless of case, enforced by the database.

The services compare names with Python's ``casefold`` before writing, which cannot stop two
requests creating "Python" and "python" in the same instant; this unique index on
``lower(name)`` does. PostgreSQL's ``lower()`` folds every letter, SQLite's only ASCII ones.

Tags that already clash (created by such a race before this migration) stop the migration
with their names: merge or rename them (``mergeTags``, ``updateTag``), then migrate again.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEX = "tag_name_folded_key"
CLASHES = "SELECT lower(name) FROM tag GROUP BY lower(name) HAVING count(*) > 1"
FORWARD = f"CREATE UNIQUE INDEX {INDEX} ON tag (lower(name))"
BACKWARD = f"DROP INDEX IF EXISTS {INDEX}"


async def _create_index(apps, schema_editor) -> None:
    if schema_editor.collect_sql:
        schema_editor.collected_sql.append(FORWARD + ";")
        return
    _, rows = await schema_editor.client.execute_query(CLASHES)
    if rows:
        names = ", ".join(repr(row[0]) for row in rows)
        raise RuntimeError(
            f"Tags whose names differ only in case exist ({names}): merge or rename them "
            "with `mergeTags` or `updateTag`, then run the migrations again."
        )
    await schema_editor.client.execute_script(FORWARD)


async def _drop_index(apps, schema_editor) -> None:
    if schema_editor.collect_sql:
        schema_editor.collected_sql.append(BACKWARD + ";")
        return
    await schema_editor.client.execute_script(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [('models', '0007_account_lifecycle')]

    initial = False

    operations = [ops.RunPython(_create_index, _drop_index)]
