"""Migration 0017 on a database with customers' old preference columns and emails flows sent
before messages were recorded: the preferences become message preferences, the emails become
messages on their records' timelines, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from db.connection import close_database, migrate, open_database, tortoise_config
from db.message_preferences import MessagePreference
from db.messages import Message
from tests.integration.old_databases import empty_database_url as empty_database_url
from tests.integration.old_databases import insert_row

BEFORE = "crm.0016_messages_consent"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
CUSTOMER_BLANKS = dict.fromkeys(
    (
        "legal_name",
        "website",
        "industry",
        "category",
        "rating",
        "billing_email",
        "billing_address",
        "tax_id",
        "currency",
    ),
    "",
)


async def customer(agency: uuid.UUID, name: str, channel: str, subscriptions: str) -> uuid.UUID:
    customer_id = uuid.uuid4()
    await insert_row(
        "customer",
        {
            "id": str(customer_id),
            "agency_id": str(agency),
            "name": name,
            **CUSTOMER_BLANKS,
            "preferred_channel": channel,
            "notification_subscriptions": subscriptions,
            "services": "[]",
            "tags": "[]",
            "billing_units": "[]",
            "search_text": "",
            "status": "active",
            "created_at": LONG_AGO,
            "updated_at": LONG_AGO,
        },
    )
    return customer_id


async def test_customer_preferences_and_flow_emails_are_carried(empty_database_url: str) -> None:
    agency = uuid.uuid4()
    workflow_id = f"flow:customer-onboarding:customer:{uuid.uuid4()}:1"
    async with TortoiseContext():
        await run_migrations(config=tortoise_config(empty_database_url), target=BEFORE)
        chatty = await customer(agency, "Initech", "whatsapp", '["newsletter", "product news"]')
        plain = await customer(agency, "Globex", "email", "[]")
        await insert_row(
            "flow_run",
            {
                "agency_id": str(agency),
                "workflow_id": workflow_id,
                "flow_key": "customer-onboarding",
                "version": 1,
                "record_type": "customer",
                "record_id": str(chatty),
                "status": "completed",
                "last_error": "",
                "listens_to": "[]",
                "progress_seq": 3,
                "created_at": LONG_AGO,
                "updated_at": LONG_AGO,
            },
        )
        for key in (f"{workflow_id}:run-1:4", "somebody-else:1"):
            await insert_row(
                "sent_email",
                {
                    "idempotency_key": key,
                    "recipients": '["billing@initech.example.com"]',
                    "subject": "Welcome, Initech",
                    "message_id": f"<{uuid.uuid4().hex}@crm.test>",
                    "sent_at": LONG_AGO,
                },
            )
        await Tortoise.close_connections()
        await migrate(empty_database_url)

    async with TortoiseContext():
        await open_database(empty_database_url)
        try:
            [carried] = await MessagePreference.filter(agency_id=agency)
            assert (carried.record_type, carried.record_id) == ("customer", str(chatty))
            assert (carried.channel, carried.topics) == ("whatsapp", ["newsletter", "product news"])
            assert carried.opted_out_kinds == []
            assert not await MessagePreference.filter(record_id=str(plain)).exists()
            [email] = await Message.filter(agency_id=agency)
            assert (email.record_type, email.record_id) == ("customer", str(chatty))
            assert (email.status, email.subject) == ("sent", "Welcome, Initech")
            assert email.recipients == ["billing@initech.example.com"]
            assert email.source == "flow:customer-onboarding"
            assert email.sent_at == LONG_AGO
        finally:
            await close_database()
