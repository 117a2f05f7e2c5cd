"""Stage activities at work: the calling tasks a deal gets when it enters a pipeline stage, and
the check that keeps it there while a required one is open.

The activities are the stage's own (`Stage.activities`, edited by admins through
`domain.pipelines.set_stage_activities`, versioned with the pipeline). Each becomes a calling
task for the deal's owner about the deal (calling its contact and customer), due the
activity's days after entry, marked with the stage and whether it is required. This sits
beside the flows engine rather than in it: a flow would make the tasks just as well, but the
blocking check must run inside the move's own transaction, and one list edited in one place
serves both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tortoise.backends.base.client import BaseDBAsyncClient

from db.calling_tasks import CallingTask
from db.deals import Deal
from db.pipelines import Stage
from domain.actors import Actor
from domain.calling_tasks import insert_calling_task
from domain.errors import DomainError
from domain.pipelines import StageKind

# Calling task statuses that are finished (the lifecycle's final states).
FINISHED = ("done", "aborted")


async def open_stage_activities(
    actor: Actor, deal: Deal, stage: Stage, conn: BaseDBAsyncClient, now: datetime | None = None
) -> list[CallingTask]:
    """The stage's activities as calling tasks for the deal's owner, in the caller's
    transaction (append after the deal's own event)."""
    at = now or datetime.now(UTC)
    made = []
    for activity in stage.activities:
        task = CallingTask(
            agency_id=deal.agency_id,
            subject=activity["name"],
            contact_id=deal.contact_id,
            customer_id=deal.customer_id,
            deal_id=deal.id,
            assignee_id=deal.owner_id,
            due_at=at + timedelta(days=activity["due_in_days"]),
            stage_id=stage.id,
            required=activity["required"],
        )
        await insert_calling_task(actor, task, conn)
        made.append(task)
    return made


async def check_required_done(
    deal: Deal, target: Stage, code: StrEnum, conn: BaseDBAsyncClient
) -> None:
    """Refuse (`code`, naming them) to move the deal out of its stage while a required activity
    of that stage is open. Losing a deal is never held up by its tasks."""
    if target.kind == StageKind.LOST:
        return
    open_tasks = (
        await CallingTask.filter(
            deal_id=deal.id,
            stage_id=deal.stage_id,
            required=True,
            deleted_at__isnull=True,
        )
        .exclude(status__in=FINISHED)
        .using_db(conn)
        .order_by("created_at", "subject")
    )
    if open_tasks:
        names = [task.subject for task in open_tasks]
        raise DomainError(
            code,
            f"Finish the stage's required activities first: {', '.join(names)}.",
            "stage_id",
            details={"activities": names, "callingTaskIds": [str(t.id) for t in open_tasks]},
        )
