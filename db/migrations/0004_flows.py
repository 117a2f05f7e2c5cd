from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0003_customers_calling_tasks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Flow',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('key', fields.CharField(max_length=63)),
                ('name', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'flow', 'app': 'crm', 'unique_together': (('agency_id', 'key'),), 'pk_attr': 'id', 'table_description': 'A flow of one agency, named by its key. Its documents live in its versions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FlowRun',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('workflow_id', fields.CharField(unique=True, max_length=255)),
                ('flow_key', fields.CharField(max_length=63)),
                ('version', fields.IntField()),
                ('record_type', fields.CharField(max_length=50)),
                ('record_id', fields.CharField(max_length=64)),
                ('trigger_event_id', fields.BigIntField(null=True)),
                ('status', fields.CharField(max_length=20)),
                ('current_step', fields.CharField(null=True, max_length=63)),
                ('next_wake_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('listens_to', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('progress_seq', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'flow_run', 'app': 'crm', 'indexes': [Index(fields=['record_type', 'record_id']), Index(fields=['agency_id', 'flow_key', 'status'])], 'pk_attr': 'id', 'table_description': 'One run of one flow version on one record, as far as the database knows it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FlowStepEffect',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('idempotency_key', fields.CharField(unique=True, max_length=255)),
                ('workflow_id', fields.CharField(max_length=255)),
                ('kind', fields.CharField(max_length=30)),
                ('result', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'flow_step_effect', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A change a flow step made, keyed by workflow run and activity.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FlowVersion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('flow', fields.ForeignKeyField('crm.Flow', source_field='flow_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('agency_id', fields.UUIDField()),
                ('version', fields.IntField(null=True)),
                ('status', fields.CharField(max_length=20)),
                ('document', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('trigger_event', fields.CharField(null=True, max_length=80)),
                ('trigger_status', fields.CharField(null=True, max_length=50)),
                ('based_on', fields.IntField(null=True)),
                ('created_by', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('published_by', fields.CharField(default='', max_length=100)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'flow_version', 'app': 'crm', 'unique_together': (('flow', 'version'),), 'indexes': [Index(fields=['agency_id', 'status', 'trigger_event'])], 'pk_attr': 'id', 'table_description': 'One document of a flow. A draft has no number yet and is the only editable state.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('user_id', fields.UUIDField()),
                ('message', fields.TextField(unique=False)),
                ('record_type', fields.CharField(default='', max_length=50)),
                ('record_id', fields.CharField(default='', max_length=64)),
                ('source', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'user_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A message for one user about one record, with where it came from.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('kind', fields.CharField(max_length=20)),
                ('workflow_id', fields.CharField(max_length=255)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='pending', max_length=20)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'crm', 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'Start a flow run or signal one. The relay delivers pending rows in id order.'},
            bases=['Model'],
        ),
    ]
