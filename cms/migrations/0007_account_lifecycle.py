from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_content_addressed_revisions')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ApiToken',
            name='client_address',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='user_agent',
            field=fields.CharField(default='', max_length=255),
        ),
        ops.AddField(
            model_name='PreviewToken',
            name='revoked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
