"""Migration 0007 on a database that already holds contacts and customers: their tags join
the agency catalogue and their search columns are filled, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from db.connection import close_database, migrate, open_database, tortoise_config
from db.contacts import Contact
from db.customers import Customer
from db.tags import RecordTag, Tag
from tests.integration.old_databases import empty_database_url as empty_database_url
from tests.integration.old_databases import insert_row

BEFORE = "crm.0006_webhooks"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


async def test_existing_rows_get_catalogue_tags_and_search_text(empty_database_url: str) -> None:
    agency, contact_id, customer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with TortoiseContext():
        await run_migrations(config=tortoise_config(empty_database_url), target=BEFORE)
        blank = dict.fromkeys(
            ("last_name", "company_name", "job_title", "street", "city", "region"), ""
        )
        await insert_row(
            "contact",
            {
                "id": str(contact_id),
                "agency_id": str(agency),
                "first_name": "Ana",
                **blank,
                "postal_code": "",
                "country": "",
                "source": "",
                "notes": "",
                "status": "new",
                "emails": '["ana@initech.example.com"]',
                "phones": '["+442079460958"]',
                "tags": '["VIP", "Renewal"]',
                "created_at": LONG_AGO,
                "updated_at": LONG_AGO,
            },
        )
        await insert_row(
            "customer",
            {
                "id": str(customer_id),
                "agency_id": str(agency),
                "name": "Initech",
                **dict.fromkeys(
                    ("legal_name", "website", "industry", "category", "rating", "billing_email"),
                    "",
                ),
                "billing_address": "",
                "tax_id": "",
                "currency": "",
                "preferred_channel": "email",
                "notification_subscriptions": "[]",
                "services": "[]",
                "tags": '["vip"]',
                "status": "draft",
                "created_at": LONG_AGO,
                "updated_at": LONG_AGO,
            },
        )
        await Tortoise.close_connections()
        await migrate(empty_database_url)

    async with TortoiseContext():
        await open_database(empty_database_url)
        try:
            contact = await Contact.get(id=contact_id)
            assert "ana@initech.example.com" in contact.search_text
            assert "2079460958" in contact.search_text
            assert (await Customer.get(id=customer_id)).search_text == "initech"
            tags = {tag.key: tag for tag in await Tag.filter(agency_id=agency)}
            assert {tag.name for tag in tags.values()} == {"VIP", "Renewal"}
            carried = {
                (row.record_type, row.tag_id) for row in await RecordTag.filter(agency_id=agency)
            }
            assert carried == {
                ("contact", tags["vip"].id),
                ("contact", tags["renewal"].id),
                ("customer", tags["vip"].id),
            }
        finally:
            await close_database()
