from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0042_custom_field_sort_keys')]

    initial = False

    operations = [
        ops.AddField(
            model_name='RecordImport',
            name='start_flows',
            field=fields.BooleanField(default=True, db_default=True),
        ),
    ]
