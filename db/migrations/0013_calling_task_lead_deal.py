from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0012_customer_billing_units')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CallingTask',
            name='deal_id',
            field=fields.UUIDField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='CallingTask',
            name='lead_id',
            field=fields.UUIDField(null=True, db_index=True),
        ),
    ]
