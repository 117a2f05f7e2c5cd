from tortoise import migrations
from tortoise.migrations import operations as ops
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("crm", "0022_email_accounts")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Meeting",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("agency_id", fields.UUIDField(db_index=True)),
                ("owner_id", fields.UUIDField(null=True, db_index=True)),
                ("contact_id", fields.UUIDField(db_index=True)),
                ("lead_id", fields.UUIDField(null=True, db_index=True)),
                ("deal_id", fields.UUIDField(null=True, db_index=True)),
                ("calling_task_id", fields.UUIDField(null=True, db_index=True)),
                ("title", fields.CharField(max_length=200)),
                ("location", fields.CharField(default="", max_length=500)),
                ("duration_minutes", fields.IntField()),
                ("template_key", fields.CharField(default="", max_length=63)),
                ("time_zone", fields.CharField(default="UTC", max_length=64)),
                ("starts_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ends_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("sequence", fields.IntField(default=0)),
                ("status", fields.CharField(default="proposed", db_index=True, max_length=20)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("deleted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "meeting",
                "app": "crm",
                "indexes": [
                    Index(fields=["agency_id", "created_at", "id"]),
                    Index(fields=["owner_id", "status", "starts_at"]),
                ],
                "pk_attr": "id",
                "table_description": "A meeting with a contact, perhaps about a lead, a deal or a calling task.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MeetingSlot",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("agency_id", fields.UUIDField()),
                ("meeting_id", fields.UUIDField(db_index=True)),
                ("starts_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ends_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "meeting_slot",
                "app": "crm",
                "pk_attr": "id",
                "table_description": "One time the owner offered, which the contact may pick.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Message",
            name="calendar",
            field=fields.TextField(default="", db_default="", unique=False),
        ),
        ops.AddField(
            model_name="Message",
            name="calendar_method",
            field=fields.CharField(default="", db_default="", max_length=20),
        ),
        ops.AddField(
            model_name="Message",
            name="page_link",
            field=fields.CharField(default="", db_default="", max_length=100),
        ),
    ]
