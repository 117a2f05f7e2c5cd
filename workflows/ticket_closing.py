"""`TicketClosing`: a resolved ticket may be reopened for the agency's window; this run waits
the window out on a durable timer, then has the ticket closed for good (if it is still
resolved from the same resolution: one reopened meanwhile is left alone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.tickets import close_ticket_after_window

CLOSE_TIMEOUT = timedelta(seconds=30)
CLOSE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
)


@dataclass(frozen=True)
class TicketClosingInput:
    ticket_id: str
    resolved_at: datetime
    close_at: datetime


@workflow.defn
class TicketClosing:
    @workflow.run
    async def run(self, request: TicketClosingInput) -> bool:
        """Whether the ticket closed."""
        delay = request.close_at - workflow.now()
        if delay > timedelta(0):
            await workflow.sleep(delay, summary="reopen window")
        return await workflow.execute_activity(
            close_ticket_after_window,
            args=[request.ticket_id, request.resolved_at.isoformat()],
            start_to_close_timeout=CLOSE_TIMEOUT,
            retry_policy=CLOSE_RETRY,
        )
