"""`MeetingReminder`: waits on a durable timer until shortly before a booked meeting, then has
the contact and the owner reminded. One run per invitation revision; a new time or a
cancellation cancels it (the `cancel` signal), and a new time starts the next one."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.meetings import remind_of_meeting

REMIND_TIMEOUT = timedelta(seconds=30)
REMIND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
)


@dataclass(frozen=True)
class MeetingReminderInput:
    meeting_id: str
    sequence: int
    remind_at: datetime


@workflow.defn
class MeetingReminder:
    def __init__(self) -> None:
        self._cancelled = False

    @workflow.signal
    def cancel(self) -> None:
        self._cancelled = True

    @workflow.run
    async def run(self, request: MeetingReminderInput) -> bool:
        """Whether a reminder went out (not when cancelled, or the meeting moved on)."""
        delay = request.remind_at - workflow.now()
        if delay > timedelta(0):
            with contextlib.suppress(TimeoutError):  # the timeout is the wait being over
                await workflow.wait_condition(
                    lambda: self._cancelled, timeout=delay, timeout_summary="remind"
                )
        if self._cancelled:
            return False
        return await workflow.execute_activity(
            remind_of_meeting,
            args=[request.meeting_id, request.sequence],
            start_to_close_timeout=REMIND_TIMEOUT,
            retry_policy=REMIND_RETRY,
        )
