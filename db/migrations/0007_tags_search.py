"""Tag catalogue and record tag index, search columns, and both filled in from existing rows."""

import json
from typing import Any
from uuid import uuid4

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


def _json_list(value: Any) -> list[str]:
    return list(json.loads(value) if isinstance(value, str) else value or [])


async def _backfill(apps: Any, schema_editor: Any) -> None:
    """Search text for existing contacts and customers, and their tags into the catalogue."""
    from db.search import search_text

    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"

    async def run(sql: str, values: list[Any]) -> None:
        if postgres:  # asyncpg numbers its placeholders
            for number in range(1, len(values) + 1):
                sql = sql.replace("?", f"${number}", 1)
        await client.execute_query(sql, values)

    catalogue: dict[tuple[str, str], str] = {}

    async def tag(kind: str, row: dict[str, Any]) -> None:
        agency = str(row["agency_id"])
        for name in _json_list(row["tags"]):
            key = (agency, name.lower())
            if key not in catalogue:
                catalogue[key] = str(uuid4())
                await run(
                    "INSERT INTO tag (id, agency_id, name, key, color, created_at)"
                    " VALUES (?, ?, ?, ?, '', CURRENT_TIMESTAMP)",
                    [catalogue[key], agency, name, name.lower()],
                )
            await run(
                "INSERT INTO record_tag (id, agency_id, tag_id, record_type, record_id)"
                " VALUES (?, ?, ?, ?, ?)",
                [str(uuid4()), agency, catalogue[key], kind, str(row["id"])],
            )

    for row in await client.execute_query_dict(
        "SELECT id, agency_id, first_name, last_name, company_name, emails, phones, tags FROM contact"
    ):
        names = [row["first_name"], row["last_name"]]
        texts = [" ".join(names).strip(), *names, row["company_name"], *_json_list(row["emails"])]
        text = search_text(texts, _json_list(row["phones"]))
        await run("UPDATE contact SET search_text = ? WHERE id = ?", [text, str(row["id"])])
        await tag("contact", row)
    for row in await client.execute_query_dict(
        "SELECT id, agency_id, name, legal_name, website, billing_email, tags FROM customer"
    ):
        texts = [row["name"], row["legal_name"], row["website"], row["billing_email"]]
        await run("UPDATE customer SET search_text = ? WHERE id = ?", [search_text(texts), str(row["id"])])
        await tag("customer", row)


class Migration(migrations.Migration):
    dependencies = [('crm', '0006_webhooks')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RecordTag',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField()),
                ('tag_id', fields.UUIDField(db_index=True)),
                ('record_type', fields.CharField(max_length=30)),
                ('record_id', fields.UUIDField()),
            ],
            options={'table': 'record_tag', 'app': 'crm', 'unique_together': (('tag_id', 'record_type', 'record_id'),), 'indexes': [Index(fields=['agency_id', 'record_type', 'record_id'])], 'pk_attr': 'id', 'table_description': 'One tag on one record: what tag filters and tag usage counts read.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tag',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('agency_id', fields.UUIDField(db_index=True)),
                ('name', fields.CharField(max_length=50)),
                ('key', fields.CharField(max_length=50)),
                ('color', fields.CharField(default='', max_length=7)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tag', 'app': 'crm', 'unique_together': (('agency_id', 'key'),), 'pk_attr': 'id', 'table_description': 'A label shared by the whole agency. key is the lower-cased name: VIP and vip are one tag.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Contact',
            name='search_text',
            field=fields.CharField(default='', db_default='', max_length=4000),
        ),
        ops.AddField(
            model_name='Customer',
            name='search_text',
            field=fields.CharField(default='', db_default='', max_length=4000),
        ),
        ops.RunPython(_backfill, ops.RunPython.noop),
    ]
