from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0032_portal')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['agency_id', 'owner_id', 'status', 'created_at', 'id']),
        ),
        ops.RemoveIndex(
            model_name='RecordTag',
            name=None,
            fields=['agency_id', 'record_type', 'record_id'],
        ),
        ops.AddIndex(
            model_name='RecordTag',
            index=Index(fields=['agency_id', 'record_type', 'record_id', 'tag_id']),
        ),
    ]
