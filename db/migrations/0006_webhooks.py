from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0005_pipelines_leads_deals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('url', fields.CharField(max_length=2000)),
                ('description', fields.CharField(default='', max_length=500)),
                ('event_types', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('active', fields.BooleanField(default=True)),
                ('secret', fields.CharField(max_length=100)),
                ('consecutive_failures', fields.IntField(default=0)),
                ('disabled_reason', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'active'])], 'pk_attr': 'id', 'table_description': "An integrator's URL that receives the agency's events, signed with the endpoint's secret."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('endpoint', fields.ForeignKeyField('crm.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event_id', fields.BigIntField()),
                ('event_type', fields.CharField(max_length=80)),
                ('status', fields.CharField(default='pending', max_length=20)),
                ('attempts', fields.IntField(default=0)),
                ('last_response_code', fields.IntField(null=True)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('redelivery_of_id', fields.BigIntField(null=True)),
                ('workflow_started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'crm', 'indexes': [Index(fields=['status', 'id']), Index(fields=['agency_id', 'endpoint_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One event sent to one endpoint, by the Temporal workflow with id webhook:(this id).'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Event',
            index=Index(fields=['agency_id', 'id']),
        ),
    ]
