from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0035_dashboards')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ImportRowError',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('import_id', fields.UUIDField()),
                ('row_number', fields.IntField()),
                ('column', fields.CharField(default='', max_length=255)),
                ('message', fields.CharField(max_length=500)),
            ],
            options={'table': 'import_row_error', 'app': 'crm', 'indexes': [Index(fields=['import_id', 'row_number'])], 'pk_attr': 'id', 'table_description': 'Why a row (or one of its cells) could not be imported.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RecordImport',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('created_by', fields.CharField(max_length=100)),
                ('owner_id', fields.UUIDField(null=True)),
                ('actor', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('record_type', fields.CharField(max_length=20)),
                ('file_name', fields.CharField(max_length=255)),
                ('file_format', fields.CharField(max_length=10)),
                ('storage_key', fields.CharField(max_length=200)),
                ('size', fields.BigIntField()),
                ('columns', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('mapping', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('duplicate_policy', fields.CharField(default='skip', max_length=20)),
                ('status', fields.CharField(default='uploaded', db_index=True, max_length=20)),
                ('total_rows', fields.IntField(default=0)),
                ('next_row', fields.IntField(default=1)),
                ('created', fields.IntField(default=0)),
                ('updated', fields.IntField(default=0)),
                ('skipped', fields.IntField(default=0)),
                ('failed', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'record_import', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'One uploaded file and its run. `next_row` moves with each committed batch, in the'},
            bases=['Model'],
        ),
    ]
