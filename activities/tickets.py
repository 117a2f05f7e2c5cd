"""Ticket activities: closing a resolved ticket when its reopen window ends, and the SLA
clocks' warnings and breaches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from temporalio import activity

from domain import tickets


@activity.defn(name="close_ticket_after_window")
async def close_ticket_after_window(ticket_id: str, resolved_at: str) -> bool:
    """Idempotent: a retry finds the ticket closed and closes nothing."""
    return await tickets.close_after_window(UUID(ticket_id), datetime.fromisoformat(resolved_at))


@activity.defn(name="record_sla_event")
async def record_sla_event(ticket_id: str, clock: str, kind: str, due_at: str) -> bool:
    """Idempotent: a retry finds the warning or breach recorded and tells nobody again."""
    return await tickets.record_sla_event(
        UUID(ticket_id), clock, kind, datetime.fromisoformat(due_at)
    )


TICKET_ACTIVITIES: list[Callable[..., Any]] = [close_ticket_after_window, record_sla_event]
