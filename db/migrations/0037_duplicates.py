"""Duplicate-detection keys of contacts and customers (filled in for existing rows), and the
record of merges (for their undo)."""

import json
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


async def _backfill(apps: Any, schema_editor: Any) -> None:
    """Keys for the contacts and customers that exist already (deleted ones too: a lookup
    skips them, an undone merge or a restore needs them)."""
    from db.duplicates import contact_keys, customer_keys

    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    marks = "($1, $2, $3, $4)" if postgres else "(?, ?, ?, ?)"
    insert = f"INSERT INTO duplicate_key (agency_id, record_type, record_id, key) VALUES {marks}"

    def listed(value: Any) -> list[str]:
        return list(json.loads(value) if isinstance(value, str) else value or [])

    contacts = await client.execute_query_dict(
        "SELECT id, agency_id, first_name, last_name, emails, phones FROM contact"
    )
    for row in contacts:
        keys = contact_keys(
            row["first_name"], row["last_name"], listed(row["emails"]), listed(row["phones"])
        )
        for key in keys:
            await client.execute_query(
                insert, [str(row["agency_id"]), "contact", str(row["id"]), key]
            )
    customers = await client.execute_query_dict(
        "SELECT id, agency_id, name, website, billing_email FROM customer"
    )
    for row in customers:
        for key in customer_keys(row["name"], row["website"], row["billing_email"]):
            await client.execute_query(
                insert, [str(row["agency_id"]), "customer", str(row["id"]), key]
            )


class Migration(migrations.Migration):
    dependencies = [("crm", "0036_record_imports")]

    initial = False

    operations = [
        ops.CreateModel(
            name="DuplicateKey",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("agency_id", fields.UUIDField()),
                ("record_type", fields.CharField(max_length=20)),
                ("record_id", fields.UUIDField(db_index=True)),
                ("key", fields.CharField(max_length=120)),
            ],
            options={
                "table": "duplicate_key",
                "app": "crm",
                "indexes": [Index(fields=["agency_id", "record_type", "key"])],
                "pk_attr": "id",
                "table_description": "One normalised key of one contact or customer (kind prefix e, p, w or n, then the key).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RecordMerge",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("agency_id", fields.UUIDField(db_index=True)),
                ("record_type", fields.CharField(max_length=20)),
                ("survivor_id", fields.UUIDField(db_index=True)),
                (
                    "merged_ids",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "survivor_before",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "survivor_after",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                (
                    "moved",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("actor_id", fields.CharField(default="", max_length=100)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("undo_until", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("undone_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "record_merge",
                "app": "crm",
                "pk_attr": "id",
                "table_description": "Two to nine records joined into one survivor, with what is needed to undo it.",
            },
            bases=["Model"],
        ),
        ops.RunPython(_backfill, ops.RunPython.noop),
    ]
