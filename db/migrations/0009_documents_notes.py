from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0008_custom_fields')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Document',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('record_type', fields.CharField(max_length=50)),
                ('record_id', fields.UUIDField()),
                ('file_name', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=255)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('storage_key', fields.CharField(unique=True, max_length=255)),
                ('uploaded_by', fields.CharField(max_length=100)),
                ('uploaded_by_user_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'document', 'app': 'crm', 'indexes': [Index(fields=['record_type', 'record_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A file on a record. The storage key is chosen by the CRM, never taken from the file name.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Note',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('record_type', fields.CharField(max_length=50)),
                ('record_id', fields.UUIDField()),
                ('body', fields.TextField(unique=False)),
                ('author', fields.CharField(max_length=100)),
                ('author_user_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'note', 'app': 'crm', 'indexes': [Index(fields=['record_type', 'record_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A note on a contact or customer, read and changed under the row scope of that record.'},
            bases=['Model'],
        ),
    ]
