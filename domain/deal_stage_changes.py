"""The stage history of deals: written by the deal service on every move (and on creation,
entering the first stage), in the move's transaction, and read by the dashboards.

The event log holds the same moves (`deal.transitioned`), but as JSON to be unpacked per
agency; a table of its own makes stage-to-stage conversion and time in stage plain GROUP BYs
over indexed columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from db.deal_stage_changes import DealStageChange
from db.deals import Deal
from domain.actors import Actor


async def record_stage_entry(
    actor: Actor,
    deal: Deal,
    from_stage_id: UUID | None,
    at: datetime,
    conn: BaseDBAsyncClient,
) -> DealStageChange:
    """The deal entered its (new) stage at `at`: the stay it leaves ends then."""
    if from_stage_id is not None:
        await (
            DealStageChange.filter(deal_id=deal.id, left_at__isnull=True)
            .using_db(conn)
            .update(left_at=at)
        )
    return await DealStageChange.create(
        using_db=conn,
        agency_id=deal.agency_id,
        deal_id=deal.id,
        pipeline_id=deal.pipeline_id,
        from_stage_id=from_stage_id,
        to_stage_id=deal.stage_id,
        changed_by=actor.id,
        changed_at=at,
    )


async def stage_history(deal_id: UUID) -> list[dict[str, Any]]:
    """A deal's entries in order (for tests and support: the API reads the dashboards)."""
    return await DealStageChange.filter(deal_id=deal_id).order_by("id").values()
