from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0017_preferences_from_customers')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Broadcast',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('template_key', fields.CharField(max_length=63)),
                ('record_type', fields.CharField(max_length=20)),
                ('audience', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('time_zone', fields.CharField(max_length=64)),
                ('send_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('recurrence', fields.CharField(default='', max_length=20)),
                ('date_field', fields.CharField(default='', max_length=80)),
                ('status', fields.CharField(max_length=20)),
                ('created_by', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'broadcast', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'What to send to whom and when. The audience is read when each run starts.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BroadcastRun',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('broadcast_id', fields.UUIDField(db_index=True)),
                ('occurrence', fields.CharField(max_length=10)),
                ('status', fields.CharField(default='sending', max_length=20)),
                ('targeted', fields.IntField(default=0)),
                ('sent', fields.IntField(default=0)),
                ('failed', fields.IntField(default=0)),
                ('skipped', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('cursor', fields.CharField(default='', max_length=200)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'broadcast_run', 'app': 'crm', 'unique_together': (('broadcast_id', 'occurrence'),), 'pk_attr': 'id', 'table_description': 'One sending: its occurrence (the local date it is for), progress and outcome.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Message',
            index=Index(fields=['agency_id', 'source', 'status']),
        ),
    ]
