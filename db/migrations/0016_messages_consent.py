from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0015_message_templates')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ConsentChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('record_type', fields.CharField(max_length=50)),
                ('record_id', fields.CharField(max_length=64)),
                ('opted_in', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('opted_out', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('source', fields.CharField(max_length=20)),
                ('message_id', fields.BigIntField(null=True)),
                ('changed_by', fields.CharField(max_length=100)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'consent_change', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'record_type', 'record_id', 'changed_at'])], 'pk_attr': 'id', 'table_description': "One change of a record's consent: which kinds, in or out, when and through what."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('record_type', fields.CharField(max_length=50)),
                ('record_id', fields.CharField(max_length=64)),
                ('channel', fields.CharField(default='email', max_length=20)),
                ('kind', fields.CharField(max_length=20)),
                ('template_key', fields.CharField(default='', max_length=63)),
                ('template_version', fields.IntField(null=True)),
                ('recipients', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('to_record', fields.BooleanField(default=True)),
                ('subject', fields.CharField(max_length=255)),
                ('text_body', fields.TextField(unique=False)),
                ('html_body', fields.TextField(default='', unique=False)),
                ('status', fields.CharField(default='queued', max_length=20)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('idempotency_key', fields.CharField(unique=True, max_length=255)),
                ('message_id', fields.CharField(default='', max_length=255)),
                ('source', fields.CharField(default='', max_length=255)),
                ('created_by', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'message', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'record_type', 'record_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "One message to one record's addresses, kept as rendered: the proof of what was sent."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MessagePreference',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('record_type', fields.CharField(max_length=50)),
                ('record_id', fields.CharField(max_length=64)),
                ('channel', fields.CharField(default='email', max_length=20)),
                ('opted_out_kinds', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('topics', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'message_preference', 'app': 'crm', 'unique_together': (('agency_id', 'record_type', 'record_id'),), 'pk_attr': 'id', 'table_description': "One record's choices: the kinds of message it does not want and the channel it prefers."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UndeliverableAddress',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('address', fields.CharField(max_length=254)),
                ('reason', fields.CharField(max_length=500)),
                ('bounced_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'undeliverable_address', 'app': 'crm', 'unique_together': (('agency_id', 'address'),), 'pk_attr': 'id', 'table_description': "An address the agency's mail server refused for good (a hard bounce): not sent to again."},
            bases=['Model'],
        ),
    ]
