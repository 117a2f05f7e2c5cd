from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0014_agency_profile')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MessageTemplate',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('key', fields.CharField(max_length=63)),
                ('name', fields.CharField(max_length=200)),
                ('kind', fields.CharField(max_length=20)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'message_template', 'app': 'crm', 'unique_together': (('agency_id', 'key'),), 'pk_attr': 'id', 'table_description': 'A template of one agency, named by its key (`welcome`). Its text lives in its versions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MessageTemplateVersion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('template', fields.ForeignKeyField('crm.MessageTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('agency_id', fields.UUIDField()),
                ('version', fields.IntField(null=True)),
                ('status', fields.CharField(max_length=20)),
                ('subject', fields.CharField(max_length=255)),
                ('text_body', fields.TextField(unique=False)),
                ('html_body', fields.TextField(default='', unique=False)),
                ('created_by', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('published_by', fields.CharField(default='', max_length=100)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'message_template_version', 'app': 'crm', 'unique_together': (('template', 'version'),), 'pk_attr': 'id', 'table_description': 'One text of a template. A draft has no number and is the only editable state. Publishing'},
            bases=['Model'],
        ),
    ]
