from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0019_notification_channels')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Agency',
            name='logo_document_id',
            field=fields.UUIDField(null=True),
        ),
    ]
