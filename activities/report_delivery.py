"""Report delivery activities: build a scheduled report's run and count what was sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from temporalio import activity

from domain import report_schedules


@dataclass(frozen=True)
class ReportRunInput:
    """One run of a schedule: its key (the run's workflow id) and the time it stands for."""

    schedule_id: str
    run_key: str
    run_at: datetime


@dataclass(frozen=True)
class ReportRunPlan:
    """The run's delivery and the messages to send; `stopped` says why there are none."""

    delivery_id: int
    message_ids: list[int] = field(default_factory=list)
    stopped: str = ""


@activity.defn(name="prepare_report_delivery")
async def prepare_report_delivery(request: ReportRunInput) -> ReportRunPlan:
    """Idempotent per run key: a retry finds the delivery and messages the first one made."""
    prepared = await report_schedules.prepare_run(
        UUID(request.schedule_id), request.run_key, request.run_at
    )
    return ReportRunPlan(prepared.delivery_id, prepared.message_ids, prepared.stopped)


@activity.defn(name="conclude_report_delivery")
async def conclude_report_delivery(delivery_id: int) -> str:
    """The delivery's outcome once every message has one (counting again changes nothing)."""
    delivery = await report_schedules.conclude_run(delivery_id)
    return delivery.status


REPORT_DELIVERY_ACTIVITIES: list[Callable[..., Awaitable[Any]]] = [
    prepare_report_delivery,
    conclude_report_delivery,
]
