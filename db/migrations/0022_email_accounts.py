from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0021_inbound_email')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EmailAccount',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('user_id', fields.UUIDField()),
                ('purpose', fields.CharField(max_length=20)),
                ('host', fields.CharField(max_length=253)),
                ('port', fields.IntField()),
                ('security', fields.CharField(max_length=10)),
                ('username', fields.CharField(max_length=320)),
                ('password_encrypted', fields.TextField(unique=False)),
                ('folder', fields.CharField(default='INBOX', max_length=200)),
                ('uid_validity', fields.BigIntField(null=True)),
                ('last_uid', fields.BigIntField(default=0)),
                ('status', fields.CharField(default='ok', max_length=20)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('last_fetched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'email_account', 'app': 'crm', 'unique_together': (('agency_id', 'host', 'username', 'folder'),), 'pk_attr': 'id', 'table_description': 'An IMAP mailbox the worker reads new mail from, remembering the last UID it took.'},
            bases=['Model'],
        ),
    ]
