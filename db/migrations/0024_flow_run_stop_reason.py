from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0023_meetings')]

    initial = False

    operations = [
        ops.AddField(
            model_name='FlowRun',
            name='stop_reason',
            field=fields.CharField(default='', db_default='', max_length=30),
        ),
    ]
