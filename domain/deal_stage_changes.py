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
from db.pipelines import Stage
from domain.actors import Actor


def steps_forward(stages: list[Stage], entered: Stage) -> tuple[list[UUID], list[UUID]]:
    """Of a pipeline's stages, those from which entering `entered` is a step to the next
    stage, and those from which it is a step to a later one. Order is by position; a lost
    stage is no step forward (and entering one is none); deleted stages keep their place as
    starting points but are no one's next stage."""
    if entered.kind == "lost":
        return [], []
    ahead = sorted(
        (s for s in stages if s.kind != "lost" and s.deleted_at is None),
        key=lambda s: (s.position, str(s.id)),
    )
    before = [s for s in stages if s.position < entered.position]

    def following(stage: Stage) -> Stage | None:
        return next((s for s in ahead if s.position > stage.position), None)

    nexts = [s.id for s in before if (after := following(s)) is not None and after.id == entered.id]
    return nexts, [s.id for s in before]


async def record_stage_entry(
    actor: Actor,
    deal: Deal,
    from_stage_id: UUID | None,
    at: datetime,
    conn: BaseDBAsyncClient,
) -> DealStageChange:
    """The deal entered its (new) stage at `at`: the stay it leaves ends then, and its earlier
    entries it has now gone on from are marked."""
    if from_stage_id is not None:
        await (
            DealStageChange.filter(deal_id=deal.id, left_at__isnull=True)
            .using_db(conn)
            .update(left_at=at)
        )
        stages = await Stage.filter(pipeline_id=deal.pipeline_id).using_db(conn)
        entered = next(s for s in stages if s.id == deal.stage_id)
        nexts, laters = steps_forward(stages, entered)
        earlier = DealStageChange.filter(deal_id=deal.id).using_db(conn)
        if nexts:
            await earlier.filter(to_stage_id__in=nexts, reached_next=False).update(
                reached_next=True
            )
        if laters:
            await earlier.filter(to_stage_id__in=laters, reached_later=False).update(
                reached_later=True
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
