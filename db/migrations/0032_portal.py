from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0031_card_scans')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PortalSignIn',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('contact_id', fields.UUIDField(db_index=True)),
                ('customer_id', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('link_expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('signed_in_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('session_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'portal_sign_in', 'app': 'crm', 'pk_attr': 'id', 'table_description': "A link emailed to a customer's contact. The link names the row and works once, until"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketPortalReply',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('ticket_id', fields.UUIDField(db_index=True)),
                ('contact_id', fields.UUIDField(null=True)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ticket_portal_reply', 'app': 'crm', 'pk_attr': 'id', 'table_description': "A contact's answer to a ticket, written in the customer portal (the agency's public"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='CallingTask',
            name='ticket_id',
            field=fields.UUIDField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Meeting',
            name='ticket_id',
            field=fields.UUIDField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='Ticket',
            name='follows_ticket_id',
            field=fields.UUIDField(null=True),
        ),
    ]
