from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0033_keyset_page_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactBehaviour',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('contact_id', fields.UUIDField(db_index=True)),
                ('kind', fields.CharField(max_length=20)),
                ('detail', fields.CharField(default='', max_length=500)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contact_behaviour', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'Something a contact did that scoring counts: an email opened or replied, a meeting'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ContactScoreMark',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('contact_id', fields.UUIDField(unique=True)),
                ('marked_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('version', fields.IntField()),
            ],
            options={'table': 'contact_score_mark', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A contact scoring made Hot: only such a contact goes Cold again when its score decays'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeadAssignmentRules',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(unique=True)),
                ('rules', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('fallback_owner_id', fields.UUIDField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'lead_assignment_rules', 'app': 'crm', 'pk_attr': 'id', 'table_description': "An agency's ordered assignment rules (the first matching one wins) and the fallback"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScoringRules',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('version', fields.IntField()),
                ('rules', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('threshold', fields.IntField(default=50)),
                ('half_life_days', fields.IntField(null=True)),
                ('created_by', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'scoring_rules', 'app': 'crm', 'unique_together': (('agency_id', 'version'),), 'pk_attr': 'id', 'table_description': "One published version of an agency's lead scoring rules. The newest version scores."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='CallingTask',
            name='required',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='CallingTask',
            name='stage_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='OrgUnit',
            name='last_lead_assignee_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='Pipeline',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddField(
            model_name='Stage',
            name='activities',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
