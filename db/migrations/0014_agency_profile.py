from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0013_calling_task_lead_deal')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Agency',
            name='city',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Agency',
            name='country',
            field=fields.CharField(default='', db_default='', max_length=2),
        ),
        ops.AddField(
            model_name='Agency',
            name='kind',
            field=fields.CharField(default='sales_and_support', db_default='sales_and_support', max_length=20),
        ),
        ops.AddField(
            model_name='Agency',
            name='latitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Agency',
            name='locale',
            field=fields.CharField(default='en', db_default='en', max_length=35),
        ),
        ops.AddField(
            model_name='Agency',
            name='longitude',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Agency',
            name='postal_code',
            field=fields.CharField(default='', db_default='', max_length=20),
        ),
        ops.AddField(
            model_name='Agency',
            name='region',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='Agency',
            name='street',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Agency',
            name='time_zone',
            field=fields.CharField(default='UTC', db_default='UTC', max_length=64),
        ),
        ops.AddField(
            model_name='Agency',
            name='website',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
        ops.AddField(
            model_name='User',
            name='time_zone',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
