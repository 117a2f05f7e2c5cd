from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0018_broadcasts')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Notification',
            name='kind',
            field=fields.CharField(default='flow', db_default='flow', max_length=30),
        ),
        ops.AddField(
            model_name='User',
            name='notification_channels',
            field=fields.JSONField(default=dict, db_default='{}', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
