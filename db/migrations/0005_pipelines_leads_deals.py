from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from decimal import Decimal
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0004_flows')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Lead',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('services', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('contact_id', fields.UUIDField(null=True, db_index=True)),
                ('customer_id', fields.UUIDField(null=True, db_index=True)),
                ('owner_id', fields.UUIDField(null=True)),
                ('source', fields.CharField(default='', max_length=50)),
                ('estimated_value', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('status', fields.CharField(default='new', db_index=True, max_length=20)),
                ('deal_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'lead', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A sales opportunity not yet qualified. The status column is owned by the lead lifecycle.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Pipeline',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('is_default', fields.BooleanField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'pipeline', 'app': 'crm', 'unique_together': (('agency_id', 'is_default'),), 'pk_attr': 'id', 'table_description': "An ordered list of stages deals move through, one agency's own."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Stage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('pipeline', fields.ForeignKeyField('crm.Pipeline', source_field='pipeline_id', db_constraint=True, to_field='id', related_name='stages', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=100)),
                ('position', fields.IntField()),
                ('probability', fields.SmallIntField()),
                ('kind', fields.CharField(max_length=10)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'pipeline_stage', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A step of a pipeline, with the chance that a deal in it is won, in percent.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Deal',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('pipeline', fields.ForeignKeyField('crm.Pipeline', source_field='pipeline_id', db_constraint=True, to_field='id', related_name='deals', on_delete=OnDelete.RESTRICT)),
                ('stage', fields.ForeignKeyField('crm.Stage', source_field='stage_id', db_constraint=True, to_field='id', related_name='deals', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharField(default='open', db_index=True, max_length=10)),
                ('amount', fields.DecimalField(default=Decimal('0'), max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('expected_close_date', fields.DateField()),
                ('competitors', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('close_reason', fields.CharField(default='', max_length=500)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('owner_id', fields.UUIDField(null=True)),
                ('lead_id', fields.UUIDField(null=True, db_index=True)),
                ('contact_id', fields.UUIDField(null=True, db_index=True)),
                ('customer_id', fields.UUIDField(null=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'deal', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'created_at', 'id']), Index(fields=['agency_id', 'expected_close_date', 'id'])], 'pk_attr': 'id', 'table_description': 'An opportunity in a pipeline. The status column is owned by the deal lifecycle.'},
            bases=['Model'],
        ),
    ]
