"""The meeting lifecycle: Proposed -> Booked -> Held / Cancelled / No-show (final)."""

from __future__ import annotations

from statemachine import State, StateMachine

from domain.lifecycles import event_enum, state_enum


class MeetingLifecycle(StateMachine):
    """A meeting is proposed with time slots, booked when the contact picks one, then held, or
    the contact does not come (no-show). Either side may cancel it before it takes place; a
    booked meeting may move to another time (reschedule) and stays booked.

    The guards on times (a slot overlapping the owner's other meetings, a time in the past)
    need the database and the clock, so the service checks them before sending the event.
    """

    proposed = State("Proposed", initial=True, value="proposed")
    booked = State("Booked", value="booked")
    held = State("Held", final=True, value="held")
    cancelled = State("Cancelled", final=True, value="cancelled")
    no_show = State("No-show", final=True, value="no_show")

    book = proposed.to(booked)
    reschedule = booked.to.itself()
    hold = booked.to(held)
    mark_no_show = booked.to(no_show)
    cancel = proposed.to(cancelled) | booked.to(cancelled)


MeetingStatus = state_enum(MeetingLifecycle, "MeetingStatus")
MeetingEvent = event_enum(MeetingLifecycle, "MeetingEvent")
