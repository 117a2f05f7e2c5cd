"""Migration 0039 on a database that already holds deals: each gets one stage history entry
for the stage it is in, entered at its last stage move in the event log (or at its creation),
on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from db.connection import close_database, migrate, open_database, tortoise_config
from db.deal_stage_changes import DealStageChange
from tests.integration.old_databases import empty_database_url as empty_database_url
from tests.integration.old_databases import insert_row

BEFORE = "crm.0038_report_schedules"
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
MOVED = datetime(2026, 2, 3, 4, 5, tzinfo=UTC)
LAST_MOVE = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)


async def test_existing_deals_get_one_entry_for_their_stage(empty_database_url: str) -> None:
    agency, pipeline_id, stage_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    fresh, moved = uuid.uuid4(), uuid.uuid4()
    async with TortoiseContext():
        await run_migrations(config=tortoise_config(empty_database_url), target=BEFORE)
        stamps = {"agency_id": str(agency), "created_at": CREATED, "updated_at": CREATED}
        await insert_row(
            "pipeline", {"id": str(pipeline_id), "name": "Sales", "is_default": True, **stamps}
        )
        await insert_row(
            "pipeline_stage",
            {
                "id": str(stage_id),
                "pipeline_id": str(pipeline_id),
                "name": "Proposal",
                "position": 2,
                "probability": 50,
                "kind": "open",
                **stamps,
            },
        )
        for deal_id in (fresh, moved):
            await insert_row(
                "deal",
                {
                    "id": str(deal_id),
                    "name": "Relaunch",
                    "pipeline_id": str(pipeline_id),
                    "stage_id": str(stage_id),
                    "status": "open",
                    "amount": 0,
                    "expected_close_date": date(2030, 1, 1),
                    "competitors": "[]",
                    "close_reason": "",
                    **stamps,
                },
            )
        # Two moves of one deal (the last counts), and an event of another kind.
        for kind, at in (
            ("deal.transitioned", MOVED),
            ("deal.transitioned", LAST_MOVE),
            ("deal.updated", datetime(2026, 4, 1, tzinfo=UTC)),
        ):
            await insert_row(
                "event",
                {
                    "agency_id": str(agency),
                    "type": kind,
                    "aggregate_type": "deal",
                    "aggregate_id": str(moved),
                    "payload": "{}",
                    "occurred_at": at,
                },
            )
        await Tortoise.close_connections()
        await migrate(empty_database_url)

    async with TortoiseContext():
        await open_database(empty_database_url)
        try:
            entries = {
                entry.deal_id: entry for entry in await DealStageChange.filter(agency_id=agency)
            }
            assert set(entries) == {fresh, moved}
            for deal_id, entered in ((fresh, CREATED), (moved, LAST_MOVE)):
                entry = entries[deal_id]
                assert (entry.pipeline_id, entry.from_stage_id, entry.to_stage_id) == (
                    pipeline_id,
                    None,
                    stage_id,
                )
                assert (entry.changed_at, entry.left_at) == (entered, None)
                assert entry.changed_by == "backfill"
        finally:
            await close_database()
