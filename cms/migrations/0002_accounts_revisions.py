from tortoise import migrations
from tortoise.migrations import operations as ops
from cms.models.accounts import TokenKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('author', fields.ForeignKeyField('models.Author', source_field='author_id', db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='SESSION: SESSION\nAPI: API', enum_type=TokenKind, max_length=16)),
                ('name', fields.CharField(max_length=100)),
                ('prefix', fields.CharField(max_length=16)),
                ('digest', fields.CharField(unique=True, max_length=64)),
                ('scopes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A bearer credential. Only the SHA-256 digest of the secret is stored.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PreviewToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='preview_tokens', on_delete=OnDelete.CASCADE)),
                ('digest', fields.CharField(unique=True, max_length=64)),
                ('created_by', fields.ForeignKeyField('models.Author', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='preview_tokens', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'preview_token', 'app': 'models', 'pk_attr': 'id', 'table_description': "Lets an anonymous frontend read one post's current draft until the token expires."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Revision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('post', fields.ForeignKeyField('models.Post', source_field='post_id', db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('editor', fields.ForeignKeyField('models.Author', source_field='editor_id', null=True, db_constraint=True, to_field='id', related_name='revisions', on_delete=OnDelete.SET_NULL)),
                ('mutation', fields.CharField(max_length=50)),
                ('snapshot', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'revision', 'app': 'models', 'unique_together': (('post', 'version'),), 'pk_attr': 'id', 'table_description': 'An immutable snapshot of a post and its sections, taken after each change.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Author',
            name='is_active',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='Author',
            name='password_hash',
            field=fields.CharField(null=True, max_length=255),
        ),
    ]
