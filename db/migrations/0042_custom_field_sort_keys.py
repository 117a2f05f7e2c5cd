"""Sort-key columns on contacts (three number-like, three text-like, each indexed after the
owner and status like the creation order) and the sortable marking of custom fields."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('crm', '0041_ticket_priority_rank')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Contact',
            name='sort_number_1',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Contact',
            name='sort_number_2',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Contact',
            name='sort_number_3',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Contact',
            name='sort_text_1',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Contact',
            name='sort_text_2',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddField(
            model_name='Contact',
            name='sort_text_3',
            field=fields.CharField(null=True, max_length=500),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['agency_id', 'owner_id', 'status', 'sort_number_1', 'id']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['agency_id', 'owner_id', 'status', 'sort_number_2', 'id']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['agency_id', 'owner_id', 'status', 'sort_number_3', 'id']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['agency_id', 'owner_id', 'status', 'sort_text_1', 'id']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['agency_id', 'owner_id', 'status', 'sort_text_2', 'id']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['agency_id', 'owner_id', 'status', 'sort_text_3', 'id']),
        ),
        ops.AddField(
            model_name='CustomField',
            name='sort_column',
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name='CustomField',
            name='sort_fill_after',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='CustomField',
            name='sort_keys_filled',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='CustomField',
            name='sort_ready_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddConstraint(
            model_name='CustomField',
            constraint=UniqueConstraint(fields=('agency_id', 'record_type', 'sort_column'), name=None),
        ),
    ]
