"""Tickets' priority as a sortable number (ordering by priority), filled in for existing rows,
and the index of the queue ordered by it."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0040_dashboard_counts')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Ticket',
            name='priority_rank',
            field=fields.SmallIntField(default=1, db_default=1),
        ),
        ops.RunSQL(
            "UPDATE ticket SET priority_rank = CASE priority WHEN 'low' THEN 0 "
            "WHEN 'high' THEN 2 WHEN 'urgent' THEN 3 ELSE 1 END",
            ops.RunSQL.noop,
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['agency_id', 'priority_rank', 'created_at', 'id']),
        ),
    ]
