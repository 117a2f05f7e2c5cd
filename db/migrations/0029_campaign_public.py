from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0028_campaigns')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CampaignLike',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('campaign_id', fields.UUIDField()),
                ('browser', fields.CharField(max_length=64)),
                ('liked_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'campaign_like', 'app': 'crm', 'unique_together': (('campaign_id', 'browser'),), 'pk_attr': 'id', 'table_description': 'A browser (named by the random id of its cookie, hashed) liked a campaign.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReferralCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('code', fields.CharField(max_length=16)),
                ('referrer_type', fields.CharField(max_length=10)),
                ('referrer_id', fields.UUIDField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'referral_code', 'app': 'crm', 'unique_together': (('agency_id', 'code'), ('agency_id', 'referrer_type', 'referrer_id')), 'pk_attr': 'id', 'table_description': "The code a referrer gives people (typed in a sign-up form, or in a shared link's `ref`)."},
            bases=['Model'],
        ),
    ]
