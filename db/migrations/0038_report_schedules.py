"""Scheduled report deliveries (report_schedule, report_delivery) and files sent with messages
(message_attachment, message.attachment_id)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0037_duplicates')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MessageAttachment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('file_name', fields.CharField(max_length=200)),
                ('content_type', fields.CharField(max_length=100)),
                ('content', fields.BinaryField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'message_attachment', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A file sent with messages, kept as sent (the proof of what was attached): the messages'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReportDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('schedule_id', fields.UUIDField()),
                ('run_key', fields.CharField(max_length=200)),
                ('run_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('period_start', fields.DateField(null=True)),
                ('period_end', fields.DateField(null=True)),
                ('attachment_id', fields.BigIntField(null=True)),
                ('status', fields.CharField(max_length=20)),
                ('reason', fields.CharField(default='', max_length=300)),
                ('messages', fields.IntField(default=0)),
                ('sent', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'report_delivery', 'app': 'crm', 'unique_together': (('schedule_id', 'run_key'),), 'pk_attr': 'id', 'table_description': 'One run of a schedule: the period it covered, the file, and what became of it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReportSchedule',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('owner_id', fields.UUIDField()),
                ('name', fields.CharField(max_length=100)),
                ('report', fields.CharField(max_length=30)),
                ('file_format', fields.CharField(max_length=10)),
                ('period', fields.CharField(max_length=20)),
                ('bucket', fields.CharField(max_length=10)),
                ('team_id', fields.UUIDField(null=True)),
                ('filter_owner_id', fields.UUIDField(null=True)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('recipient_ids', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('external_emails', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('frequency', fields.CharField(max_length=10)),
                ('weekday', fields.IntField(null=True)),
                ('day_of_month', fields.IntField(null=True)),
                ('hour', fields.IntField()),
                ('minute', fields.IntField()),
                ('time_zone', fields.CharField(max_length=64)),
                ('status', fields.CharField(default='active', max_length=10)),
                ('paused_reason', fields.CharField(default='', max_length=300)),
                ('last_run_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_run_status', fields.CharField(default='', max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'report_schedule', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'owner_id'])], 'pk_attr': 'id', 'table_description': "A report (a dashboard export) mailed on a cadence, built with its owner's row scope."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Message',
            name='attachment_id',
            field=fields.BigIntField(null=True),
        ),
    ]
