"""Migration 0011 on a database that already holds leads, deals and calling tasks: their search
columns are filled from their texts and their tags start empty, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from db.calling_tasks import CallingTask
from db.connection import close_database, migrate, open_database, tortoise_config
from db.deals import Deal
from db.leads import Lead
from tests.integration.old_databases import empty_database_url as empty_database_url
from tests.integration.old_databases import insert_row

BEFORE = "crm.0009_documents_notes"
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)
STAMPS = {"created_at": LONG_AGO, "updated_at": LONG_AGO}


async def test_existing_leads_deals_and_tasks_get_search_text_and_no_tags(
    empty_database_url: str,
) -> None:
    agency, lead_id, deal_id, task_id = (uuid.uuid4() for _ in range(4))
    pipeline_id, stage_id = uuid.uuid4(), uuid.uuid4()
    async with TortoiseContext():
        await run_migrations(config=tortoise_config(empty_database_url), target=BEFORE)
        common = {"agency_id": str(agency), **STAMPS}
        await insert_row(
            "lead",
            {
                "id": str(lead_id),
                "title": "Website Relaunch",
                "services": "[]",
                "source": "Trade Fair",
                "status": "new",
                **common,
            },
        )
        await insert_row(
            "pipeline", {"id": str(pipeline_id), "name": "Sales", "is_default": True, **common}
        )
        await insert_row(
            "pipeline_stage",
            {
                "id": str(stage_id),
                "pipeline_id": str(pipeline_id),
                "name": "Prospecting",
                "position": 0,
                "probability": 10,
                "kind": "open",
                **common,
            },
        )
        await insert_row(
            "deal",
            {
                "id": str(deal_id),
                "name": "Order 2024-001 Initech",
                "pipeline_id": str(pipeline_id),
                "stage_id": str(stage_id),
                "status": "open",
                "amount": 0,
                "expected_close_date": date(2030, 1, 1),
                "competitors": "[]",
                "close_reason": "",
                **common,
            },
        )
        await insert_row(
            "calling_task",
            {
                "id": str(task_id),
                "subject": "Intro Call",
                "outcome_notes": "Wants a QUOTE",
                "reschedule_count": 0,
                "status": "done",
                **common,
            },
        )
        await Tortoise.close_connections()
        await migrate(empty_database_url)

    async with TortoiseContext():
        await open_database(empty_database_url)
        try:
            lead = await Lead.get(id=lead_id)
            assert lead.search_text == "website relaunch\ntrade fair"
            assert lead.tags == []
            deal = await Deal.get(id=deal_id)
            assert deal.search_text == "order 2024-001 initech"
            assert deal.tags == []
            task = await CallingTask.get(id=task_id)
            assert task.search_text == "intro call\nwants a quote"
            assert task.tags == []
            assert await Lead.filter(Lead.matching("FAIR")).count() == 1
            assert await CallingTask.filter(CallingTask.matching("quote")).count() == 1
        finally:
            await close_database()
