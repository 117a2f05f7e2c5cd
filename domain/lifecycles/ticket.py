"""The ticket lifecycle: New -> Open -> Pending -> Resolved -> Closed (final)."""

from __future__ import annotations

from statemachine import State, StateMachine

from domain.errors import DomainError
from domain.lifecycles import event_enum, state_enum
from domain.lifecycles.codes import LifecycleErrorCode


class TicketLifecycle(StateMachine):
    """A ticket is opened when someone starts working it, waits on the customer (Pending: its
    SLA clocks stand still), and is resolved once answered. A resolved ticket may be reopened
    within the agency's window; after it, a timer closes it for good.

    Resolving needs a public reply or a reason (the customer must have heard something, or
    someone must say why not); reopening needs the window to be still open. The service
    gathers both facts, so the machine stays free of I/O and of the clock.
    """

    new = State("New", initial=True, value="new")
    open = State("Open", value="open")
    pending = State("Pending", value="pending")
    resolved = State("Resolved", value="resolved")
    closed = State("Closed", final=True, value="closed")

    start = new.to(open)
    wait_on_customer = new.to(pending) | open.to(pending)
    customer_replied = pending.to(open)
    resolve = (
        new.to(resolved, validators="answered")
        | open.to(resolved, validators="answered")
        | pending.to(resolved, validators="answered")
    )
    reopen = resolved.to(open, validators="within_reopen_window")
    close = resolved.to(closed)

    def answered(self, has_public_reply: bool = False, reason: str = "") -> None:
        if not has_public_reply and not reason.strip():
            raise DomainError(
                LifecycleErrorCode.GUARD_FAILED,
                "Reply to the customer, or give a reason, before resolving the ticket.",
                field="reason",
            )

    def within_reopen_window(self, reopen_window_open: bool = False) -> None:
        if not reopen_window_open:
            raise DomainError(
                LifecycleErrorCode.GUARD_FAILED,
                "The ticket was resolved too long ago to be reopened: open a new one.",
                field="event",
            )


TicketStatus = state_enum(TicketLifecycle, "TicketStatus")
TicketEvent = event_enum(TicketLifecycle, "TicketEvent")
