from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("crm", "0024_flow_run_stop_reason")]

    initial = False

    operations = [
        ops.CreateModel(
            name="RateCounter",
            fields=[
                (
                    "key",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255),
                ),
                ("spent", fields.BigIntField(default=0)),
                (
                    "expires_at",
                    fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "rate_counter",
                "app": "crm",
                "pk_attr": "key",
                "table_description": "Requests (or cost) one subject spent in one fixed window of one limit.",
            },
            bases=["Model"],
        ),
    ]
