from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0007_tags_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CustomField',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('record_type', fields.CharField(max_length=20)),
                ('key', fields.CharField(max_length=50)),
                ('label', fields.CharField(max_length=100)),
                ('type', fields.CharField(max_length=20)),
                ('choices', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('required', fields.BooleanField(default=False)),
                ('max_length', fields.IntField(null=True)),
                ('min_value', fields.FloatField(null=True)),
                ('max_value', fields.FloatField(null=True)),
                ('position', fields.IntField(default=0)),
                ('archived_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'custom_field', 'app': 'crm', 'unique_together': (('agency_id', 'record_type', 'key'),), 'pk_attr': 'id', 'table_description': 'A typed field an admin added to one record type of one agency.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CustomFieldValue',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('field_id', fields.UUIDField()),
                ('record_type', fields.CharField(max_length=20)),
                ('record_id', fields.UUIDField()),
                ('text_value', fields.CharField(null=True, max_length=500)),
                ('number_value', fields.FloatField(null=True)),
                ('date_value', fields.DateField(null=True)),
                ('bool_value', fields.BooleanField(null=True)),
            ],
            options={'table': 'custom_field_value', 'app': 'crm', 'indexes': [Index(fields=['record_id', 'field_id']), Index(fields=['agency_id', 'field_id', 'text_value']), Index(fields=['agency_id', 'field_id', 'number_value']), Index(fields=['agency_id', 'field_id', 'date_value']), Index(fields=['agency_id', 'field_id', 'bool_value'])], 'pk_attr': 'id', 'table_description': 'One value of one custom field on one record, in the column of its type.'},
            bases=['Model'],
        ),
    ]
