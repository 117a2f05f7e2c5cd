from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0020_agency_logo')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InboundEmail',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('mailbox', fields.CharField(max_length=20)),
                ('email_account_id', fields.UUIDField(null=True)),
                ('message_id', fields.CharField(max_length=255)),
                ('envelope_from', fields.CharField(default='', max_length=320)),
                ('recipients', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('from_address', fields.CharField(default='', max_length=320)),
                ('from_name', fields.CharField(default='', max_length=200)),
                ('subject', fields.CharField(default='', max_length=255)),
                ('storage_key', fields.CharField(max_length=255)),
                ('size', fields.IntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('authentication_results', fields.TextField(default='', unique=False)),
                ('status', fields.CharField(default='received', max_length=20)),
                ('outcome', fields.CharField(default='', max_length=20)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('text_body', fields.TextField(default='', unique=False)),
                ('reply_text', fields.TextField(default='', unique=False)),
                ('contact_id', fields.UUIDField(null=True)),
                ('lead_id', fields.UUIDField(null=True)),
                ('reply_to_message_id', fields.BigIntField(null=True)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbound_email', 'app': 'crm', 'unique_together': (('agency_id', 'message_id'),), 'pk_attr': 'id', 'table_description': 'One received message of one agency, stored before anything reads it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InboundEmailLink',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('inbound_email', fields.ForeignKeyField('crm.InboundEmail', source_field='inbound_email_id', db_constraint=True, to_field='id', related_name='links', on_delete=OnDelete.CASCADE)),
                ('record_type', fields.CharField(max_length=50)),
                ('record_id', fields.CharField(max_length=64)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbound_email_link', 'app': 'crm', 'unique_together': (('inbound_email_id', 'record_type', 'record_id'),), 'indexes': [Index(fields=['agency_id', 'record_type', 'record_id', 'received_at'])], 'pk_attr': 'id', 'table_description': "A received message on one record's timeline: its contact, and the contact's customers,"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Agency',
            name='lead_assignee',
            field=fields.CharField(default='role:sales_person', db_default='role:sales_person', max_length=80),
        ),
    ]
