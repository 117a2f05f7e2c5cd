from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0030_service_desk')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CardScan',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('owner_id', fields.UUIDField(null=True)),
                ('status', fields.CharField(default='draft', max_length=20)),
                ('document_id', fields.UUIDField(null=True)),
                ('extracted', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('lines', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('contact_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'card_scan', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A card photo read into draft contact fields. The photo is a document on the scan.'},
            bases=['Model'],
        ),
    ]
