"""Migration 0007 on a database that already holds contacts and customers: their tags join
the agency catalogue and their search columns are filled, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from db.connection import close_database, migrate, open_database, tortoise_config
from db.contacts import Contact
from db.customers import Customer
from db.tags import RecordTag, Tag
from tests.fixtures.databases import DatabaseSource

BEFORE = "crm.0006_webhooks"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def empty_database_url(database_source: DatabaseSource, tmp_path: Path) -> AsyncIterator[str]:
    if database_source.postgres is None:
        yield f"sqlite://{tmp_path / 'old.sqlite3'}"
        return
    name = f"crm_old_{uuid.uuid4().hex[:16]}"
    await database_source.postgres.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_source.postgres.url(name)
    finally:
        await database_source.postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _insert(table: str, row: dict[str, Any]) -> None:
    client = Tortoise.get_connection("default")
    postgres = client.capabilities.dialect == "postgres"
    marks = [f"${n}" if postgres else "?" for n in range(1, len(row) + 1)]
    await client.execute_query(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(marks)})", list(row.values())
    )


async def test_existing_rows_get_catalogue_tags_and_search_text(empty_database_url: str) -> None:
    agency, contact_id, customer_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with TortoiseContext():
        await run_migrations(config=tortoise_config(empty_database_url), target=BEFORE)
        blank = dict.fromkeys(
            ("last_name", "company_name", "job_title", "street", "city", "region"), ""
        )
        await _insert(
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
        await _insert(
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
