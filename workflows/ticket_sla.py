"""`TicketSla`: the SLA clocks of one ticket, on durable timers.

Both clocks (first response, resolution) run in business time from the ticket's creation, by
the calendar copied onto the ticket; `pause` (Pending or Resolved) stops them and `resume`
(the customer answered, the ticket reopened) starts them again, each at the moment the
database recorded. At its policy's warning share a clock has the assignee warned; at its
target it is breached and escalated (the `record_sla_event` activity). The first public reply
meets the first-response clock (`responded`); closing the ticket ends the run (`stop`).
A change of the ticket's priority gives its clocks new targets (`retarget`, from the same
policy version): alarms still to come are timed by them, alarms already fired stay fired.

Due times come from `domain.business_time`, the same pure functions the API uses for the
time left a ticket shows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.tickets import record_sla_event
    from domain.business_time import BusinessCalendar, ClockState, due_at, pause, resume

EVENT_TIMEOUT = timedelta(seconds=30)
EVENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
)
FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"
WARNING, BREACH = "warning", "breach"


@dataclass(frozen=True)
class TicketSlaInput:
    ticket_id: str
    calendar: BusinessCalendar
    started_at: datetime
    first_response_target: int | None  # business seconds; None: no clock
    resolution_target: int | None
    warning_share: float = 0.75


@dataclass(frozen=True)
class ClockSignal:
    at: datetime


@dataclass(frozen=True)
class ClockTargets:
    """New targets in business seconds (None: that clock has none any more)."""

    first_response_target: int | None
    resolution_target: int | None


@dataclass
class TicketSlaResult:
    fired: list[str] = field(default_factory=list)  # "<clock>:<warning|breach>", in order


@workflow.defn
class TicketSla:
    @workflow.init
    def __init__(self, request: TicketSlaInput) -> None:
        # Set before any signal is handled: a pause may arrive with the start.
        self._calendar = request.calendar
        self._state = ClockState(started_at=request.started_at)
        self._responded = False
        self._stopped = False
        self._changed = False
        self._targets = ClockTargets(request.first_response_target, request.resolution_target)

    @workflow.signal
    def pause(self, signal: ClockSignal) -> None:
        self._state = pause(self._state, signal.at)
        self._changed = True

    @workflow.signal
    def resume(self, signal: ClockSignal) -> None:
        self._state = resume(self._calendar, self._state, signal.at)
        self._changed = True

    @workflow.signal
    def responded(self, signal: ClockSignal) -> None:
        self._responded = True
        self._changed = True

    @workflow.signal
    def retarget(self, targets: ClockTargets) -> None:
        self._targets = targets
        self._changed = True

    @workflow.signal
    def stop(self) -> None:
        self._stopped = True
        self._changed = True

    def _alarms(self, request: TicketSlaInput, fired: list[str]) -> list[tuple[str, float, int]]:
        """The (key, share, target) alarms still to come."""
        alarms = []
        for clock, target in (
            (FIRST_RESPONSE, self._targets.first_response_target),
            (RESOLUTION, self._targets.resolution_target),
        ):
            if target is None or (clock == FIRST_RESPONSE and self._responded):
                continue
            for kind, share in ((WARNING, request.warning_share), (BREACH, 1.0)):
                key = f"{clock}:{kind}"
                if key not in fired:
                    alarms.append((key, share, target))
        return alarms

    @workflow.run
    async def run(self, request: TicketSlaInput) -> TicketSlaResult:
        result = TicketSlaResult()
        while not self._stopped:
            alarms = self._alarms(request, result.fired)
            if not alarms:
                break  # every clock met or breached: nothing more can happen
            self._changed = False
            dues = [
                (due, key)
                for key, share, target in alarms
                if (due := due_at(self._calendar, self._state, timedelta(seconds=target * share)))
                is not None
            ]
            if not dues:  # paused
                await workflow.wait_condition(lambda: self._changed)
                continue
            due, key = min(dues)
            delay = due - workflow.now()
            if delay > timedelta(0):
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._changed, timeout=delay, timeout_summary=key
                    )
                if self._changed:
                    continue
            clock, kind = key.split(":")
            await workflow.execute_activity(
                record_sla_event,
                args=[request.ticket_id, clock, kind, due.isoformat()],
                start_to_close_timeout=EVENT_TIMEOUT,
                retry_policy=EVENT_RETRY,
            )
            result.fired.append(key)
        return result
