"""The calling task lifecycle: New -> Scheduled -> Re-Scheduled -> Done / Aborted (final)."""

from __future__ import annotations

from datetime import datetime

from statemachine import State, StateMachine

from domain.errors import DomainError
from domain.lifecycles import event_enum, state_enum
from domain.lifecycles.codes import LifecycleErrorCode


def _refuse(message: str, field: str) -> DomainError:
    return DomainError(LifecycleErrorCode.GUARD_FAILED, message, field=field)


class CallingTaskLifecycle(StateMachine):
    new = State("New", initial=True, value="new")
    scheduled = State("Scheduled", value="scheduled")
    rescheduled = State("Re-Scheduled", value="rescheduled")
    done = State("Done", final=True, value="done")
    aborted = State("Aborted", final=True, value="aborted")

    schedule = new.to(scheduled, validators="due_in_future")
    reschedule = scheduled.to(rescheduled, validators="due_in_future") | rescheduled.to(
        rescheduled, validators="due_in_future"
    )
    complete = (
        new.to(done, validators="has_outcome")
        | scheduled.to(done, validators="has_outcome")
        | rescheduled.to(done, validators="has_outcome")
    )
    abort = new.to(aborted) | scheduled.to(aborted) | rescheduled.to(aborted)

    def due_in_future(self, due_at: datetime | None = None, now: datetime | None = None) -> None:
        if due_at is None:
            raise _refuse("Give the call a due time (dueAt).", "dueAt")
        if now is not None and due_at <= now:
            raise _refuse("The due time must be in the future.", "dueAt")

    def has_outcome(self, outcome_notes: str = "") -> None:
        if not outcome_notes.strip():
            raise _refuse("Say how the call went (outcomeNotes).", "outcomeNotes")


CallingTaskStatus = state_enum(CallingTaskLifecycle, "CallingTaskStatus")
CallingTaskEvent = event_enum(CallingTaskLifecycle, "CallingTaskEvent")
