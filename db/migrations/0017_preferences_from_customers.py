"""Customers' `preferred_channel` and `notification_subscriptions` become their message
preferences (channel and topics), and the emails flows sent before messages were recorded
become message rows on their records' timelines. Nothing is lost: the columns go only after
their values are carried."""

import json
from datetime import UTC, datetime
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops


def _marks(client: Any, count: int) -> str:
    if client.capabilities.dialect == "postgres":
        return ", ".join(f"${n}" for n in range(1, count + 1))
    return ", ".join("?" * count)


async def _insert(client: Any, table: str, row: dict[str, Any]) -> None:
    await client.execute_query(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({_marks(client, len(row))})",
        list(row.values()),
    )


def _listed(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value or [])


async def _carry_customer_preferences(client: Any) -> None:
    rows = await client.execute_query_dict(
        "SELECT id, agency_id, preferred_channel, notification_subscriptions FROM customer"
    )
    now = datetime.now(UTC)
    for row in rows:
        topics = _listed(row["notification_subscriptions"])
        channel = row["preferred_channel"] or "email"
        if channel == "email" and not topics:
            continue  # what having no preference row means
        await _insert(
            client,
            "message_preference",
            {
                "agency_id": str(row["agency_id"]),
                "record_type": "customer",
                "record_id": str(row["id"]),
                "channel": channel,
                "opted_out_kinds": "[]",
                "topics": json.dumps(topics),
                "updated_at": now,
            },
        )


async def _carry_flow_emails(client: Any) -> None:
    """`sent_email` keys of flow steps are `<workflow id>:<run id>:<activity id>`."""
    runs = {
        row["workflow_id"]: row
        for row in await client.execute_query_dict(
            "SELECT workflow_id, agency_id, record_type, record_id, flow_key FROM flow_run"
        )
    }
    for email in await client.execute_query_dict("SELECT * FROM sent_email"):
        run = runs.get(email["idempotency_key"].rsplit(":", 2)[0])
        if run is None:
            continue
        await _insert(
            client,
            "message",
            {
                "agency_id": str(run["agency_id"]),
                "record_type": run["record_type"],
                "record_id": run["record_id"],
                "channel": "email",
                "kind": "sales",
                "template_key": "",
                "recipients": json.dumps(_listed(email["recipients"])),
                "to_record": True,
                "subject": email["subject"],
                "text_body": "",
                "html_body": "",
                "status": "sent",
                "reason": "",
                "idempotency_key": email["idempotency_key"],
                "message_id": email["message_id"],
                "source": f"flow:{run['flow_key']}",
                "created_by": f"system:flow:{run['flow_key']}",
                "created_at": email["sent_at"],
                "sent_at": email["sent_at"],
                "updated_at": email["sent_at"],
            },
        )


async def _carry(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    await _carry_customer_preferences(client)
    await _carry_flow_emails(client)


class Migration(migrations.Migration):
    dependencies = [('crm', '0016_messages_consent')]

    initial = False

    operations = [
        ops.RunPython(_carry, ops.RunPython.noop),
        ops.RemoveField(model_name='Customer', name='notification_subscriptions'),
        ops.RemoveField(model_name='Customer', name='preferred_channel'),
    ]
