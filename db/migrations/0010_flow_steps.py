from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0009_documents_notes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CallingTask',
            name='notes',
            field=fields.TextField(default='', db_default='', unique=False),
        ),
    ]
