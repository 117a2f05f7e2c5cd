"""Ticket activities: closing a resolved ticket when its reopen window ends."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from temporalio import activity

from domain import tickets


@activity.defn(name="close_ticket_after_window")
async def close_ticket_after_window(ticket_id: str, resolved_at: str) -> bool:
    """Idempotent: a retry finds the ticket closed and closes nothing."""
    return await tickets.close_after_window(UUID(ticket_id), datetime.fromisoformat(resolved_at))


TICKET_ACTIVITIES = [close_ticket_after_window]
