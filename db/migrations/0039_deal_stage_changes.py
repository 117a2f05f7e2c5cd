"""The stage history of deals, with one entry per existing deal for the stage it is in (entered
at its last stage move in the event log, or at its creation), the competitor a lost deal went
to, and an index for the emails sent in a period."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index



async def _backfill(apps: Any, schema_editor: Any) -> None:
    """One entry per deal (deleted ones too) for its current stage: the last
    `deal.transitioned` event brought it there, else it was created in it."""
    await schema_editor.client.execute_query(
        "INSERT INTO deal_stage_change "
        "(agency_id, deal_id, pipeline_id, from_stage_id, to_stage_id, changed_by, changed_at) "
        "SELECT d.agency_id, d.id, d.pipeline_id, NULL, d.stage_id, 'backfill', "
        "COALESCE((SELECT MAX(e.occurred_at) FROM event e WHERE e.aggregate_type = 'deal' "
        "AND e.type = 'deal.transitioned' AND e.aggregate_id = CAST(d.id AS TEXT)), "
        "d.created_at) FROM deal d ORDER BY d.created_at, d.id",
        [],
    )


class Migration(migrations.Migration):
    dependencies = [('crm', '0038_report_schedules')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DealStageChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('deal_id', fields.UUIDField()),
                ('pipeline_id', fields.UUIDField()),
                ('from_stage_id', fields.UUIDField(null=True)),
                ('to_stage_id', fields.UUIDField()),
                ('changed_by', fields.CharField(max_length=100)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('left_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reached_next', fields.BooleanField(default=False, db_default=False)),
                ('reached_later', fields.BooleanField(default=False, db_default=False)),
            ],
            options={'table': 'deal_stage_change', 'app': 'crm', 'indexes': [Index(fields=['deal_id', 'id']), Index(fields=['agency_id', 'changed_at']), Index(fields=['agency_id', 'left_at'])], 'pk_attr': 'id', 'table_description': 'A deal entering a stage: from which (none when the deal was created in it), when and by'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Deal',
            name='lost_to',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddIndex(
            model_name='Message',
            index=Index(fields=['agency_id', 'status', 'sent_at']),
        ),
        ops.RunPython(_backfill, ops.RunPython.noop),
    ]
