from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0034_scoring_assignment_stage_activities')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Quota',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('target_key', fields.CharField(max_length=60)),
                ('owner_id', fields.UUIDField(null=True)),
                ('team_id', fields.UUIDField(null=True)),
                ('period_start', fields.DateField()),
                ('period_end', fields.DateField()),
                ('amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'quota', 'app': 'crm', 'unique_together': (('agency_id', 'target_key', 'period_start', 'period_end'),), 'indexes': [Index(fields=['agency_id', 'period_start'])], 'pk_attr': 'id', 'table_description': 'A target for one sales person (owner_id) or one team (team_id, an org unit and the'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['owner_id', 'created_at']),
        ),
        ops.AddIndex(
            model_name='Deal',
            index=Index(fields=['agency_id', 'status', 'expected_close_date']),
        ),
        ops.AddIndex(
            model_name='Deal',
            index=Index(fields=['agency_id', 'status', 'closed_at']),
        ),
    ]
