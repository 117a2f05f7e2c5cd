from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0029_campaign_public')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Article',
            fields=[
                ('search_text', fields.CharField(default='', db_default='', max_length=4000)),
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('body', fields.TextField(default='', unique=False)),
                ('category', fields.CharField(default='', max_length=50)),
                ('visibility', fields.CharField(default='internal', max_length=10)),
                ('status', fields.CharField(default='draft', db_index=True, max_length=10)),
                ('author_user_id', fields.UUIDField(null=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'kb_article', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'An article: a draft until published, internal (staff only) or public (customers may'},
            bases=['Searchable'],
        ),
        ops.CreateModel(
            name='BusinessCalendarRow',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(unique=True)),
                ('time_zone', fields.CharField(default='UTC', max_length=64)),
                ('weekly_hours', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('holidays', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('holiday_country', fields.CharField(default='', max_length=2)),
                ('holiday_subdivision', fields.CharField(default='', max_length=10)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'business_calendar', 'app': 'crm', 'pk_attr': 'id', 'table_description': "An agency's working week (intervals of minutes per weekday, Monday first), its own"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaPolicy',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('version', fields.IntField()),
                ('targets', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('warning_share', fields.FloatField(default=0.75)),
                ('created_by', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sla_policy', 'app': 'crm', 'unique_together': (('agency_id', 'version'),), 'pk_attr': 'id', 'table_description': "One published version of an agency's SLA policy. A new version never changes the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('search_text', fields.CharField(default='', db_default='', max_length=4000)),
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('customer_id', fields.UUIDField(null=True, db_index=True)),
                ('contact_id', fields.UUIDField(null=True, db_index=True)),
                ('subject', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('channel', fields.CharField(default='api', max_length=10)),
                ('priority', fields.CharField(default='normal', db_index=True, max_length=10)),
                ('category', fields.CharField(default='', max_length=50)),
                ('assignee_id', fields.UUIDField(null=True, db_index=True)),
                ('team_id', fields.UUIDField(null=True, db_index=True)),
                ('status', fields.CharField(default='new', db_index=True, max_length=20)),
                ('resolution_reason', fields.CharField(default='', max_length=500)),
                ('first_response_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('satisfaction_score', fields.IntField(null=True)),
                ('satisfaction_comment', fields.TextField(default='', unique=False)),
                ('rated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sla_policy_version', fields.IntField(null=True)),
                ('sla_calendar', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('sla_warning_share', fields.FloatField(default=0.75)),
                ('first_response_target', fields.IntField(null=True)),
                ('resolution_target', fields.IntField(null=True)),
                ('sla_paused_seconds', fields.FloatField(default=0.0)),
                ('sla_paused_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_response_warned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_response_breached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution_warned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution_breached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket', 'app': 'crm', 'indexes': [Index(fields=['agency_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A support request from a contact (perhaps of a customer), worked by an assignee of a'},
            bases=['Searchable'],
        ),
        ops.CreateModel(
            name='TicketAssignmentRule',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('position', fields.IntField()),
                ('category', fields.CharField(default='', max_length=50)),
                ('priority', fields.CharField(default='', max_length=10)),
                ('rating', fields.CharField(default='', max_length=20)),
                ('team_id', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ticket_assignment_rule', 'app': 'crm', 'unique_together': (('agency_id', 'position'),), 'pk_attr': 'id', 'table_description': "One rule of an agency's ordered list: a ticket matching its category, priority and"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Agency',
            name='ticket_reopen_days',
            field=fields.IntField(default=7, db_default=7),
        ),
        ops.AddField(
            model_name='Agency',
            name='tickets_from_mail',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='last_ticket_assignee_id',
            field=fields.UUIDField(null=True),
        ),
    ]
