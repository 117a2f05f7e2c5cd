from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0002_agencies_users_access')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CallingTask',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('subject', fields.CharField(max_length=200)),
                ('contact_id', fields.UUIDField(null=True, db_index=True)),
                ('customer_id', fields.UUIDField(null=True, db_index=True)),
                ('assignee_id', fields.UUIDField(null=True, db_index=True)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('outcome_notes', fields.TextField(default='', unique=False)),
                ('reschedule_count', fields.IntField(default=0)),
                ('status', fields.CharField(default='new', db_index=True, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'calling_task', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'The assignee owns the task (row scope follows the assignee).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Customer',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('legal_name', fields.CharField(default='', max_length=200)),
                ('website', fields.CharField(default='', max_length=300)),
                ('industry', fields.CharField(default='', max_length=100)),
                ('category', fields.CharField(default='', max_length=50)),
                ('rating', fields.CharField(default='', max_length=20)),
                ('tags', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('parent_id', fields.UUIDField(null=True, db_index=True)),
                ('owner_id', fields.UUIDField(null=True, db_index=True)),
                ('operations_user_id', fields.UUIDField(null=True)),
                ('preferred_channel', fields.CharField(default='email', max_length=20)),
                ('notification_subscriptions', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('services', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('billing_email', fields.CharField(default='', max_length=254)),
                ('billing_address', fields.TextField(default='', unique=False)),
                ('tax_id', fields.CharField(default='', max_length=50)),
                ('currency', fields.CharField(default='', max_length=3)),
                ('payment_terms_days', fields.IntField(null=True)),
                ('status', fields.CharField(default='draft', db_index=True, max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customer', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A company the agency serves. The owner is its relationship manager.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CustomerContact',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('customer_id', fields.UUIDField(db_index=True)),
                ('contact_id', fields.UUIDField(db_index=True)),
                ('role', fields.CharField(default='', max_length=50)),
                ('is_primary', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'customer_contact', 'app': 'crm', 'unique_together': (('customer_id', 'contact_id'),), 'pk_attr': 'id', 'table_description': "A contact's role at a customer (primary, billing, technical...)."},
            bases=['Model'],
        ),
    ]
