from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0027_accounts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Campaign',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('title', fields.CharField(max_length=200)),
                ('code', fields.CharField(max_length=40)),
                ('description', fields.TextField(default='', unique=False)),
                ('starts_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('visibility', fields.CharField(default='private', max_length=20)),
                ('campaign_type', fields.CharField(max_length=20)),
                ('owner_id', fields.UUIDField(db_index=True)),
                ('template_keys', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('cost', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('audience_type', fields.CharField(default='contact', max_length=20)),
                ('audience', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('embed_origins', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('activity_notified', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='draft', db_index=True, max_length=20)),
                ('created_by', fields.CharField(max_length=100)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'campaign', 'app': 'crm', 'unique_together': (('agency_id', 'code'),), 'indexes': [Index(fields=['agency_id', 'created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A campaign of one agency, named in links by its code (unique in the agency).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CampaignAttribution',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('campaign_id', fields.UUIDField(db_index=True)),
                ('contact_id', fields.UUIDField(db_index=True)),
                ('referrer_user_id', fields.UUIDField(null=True)),
                ('referrer_contact_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'campaign_attribution', 'app': 'crm', 'unique_together': (('campaign_id', 'contact_id'),), 'pk_attr': 'id', 'table_description': 'A contact the campaign brought in, and who referred them (a user or a contact, or'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CampaignDailyCount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign_id', fields.UUIDField()),
                ('day', fields.DateField()),
                ('quarter_hour', fields.SmallIntField(default=0)),
                ('views', fields.BigIntField(default=0)),
                ('likes', fields.BigIntField(default=0)),
                ('enrolments', fields.BigIntField(default=0)),
            ],
            options={'table': 'campaign_daily_count', 'app': 'crm', 'unique_together': (('campaign_id', 'day', 'quarter_hour'),), 'pk_attr': 'id', 'table_description': 'Views, likes and enrolments (sign-ups) of one campaign in one quarter hour (0 to 95) of'},
            bases=['Model'],
        ),
    ]
