"""The ticket lifecycle machine: its graph, and the guards on resolving and reopening."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.errors import DomainError
from domain.lifecycles import allowed_events, apply_event
from domain.lifecycles.ticket import TicketLifecycle
from domain.tickets import TicketErrorCode


@dataclass
class Record:
    status: str = "new"


LEGAL = [
    ("new", "start", "open"),
    ("new", "wait_on_customer", "pending"),
    ("open", "wait_on_customer", "pending"),
    ("pending", "customer_replied", "open"),
    ("resolved", "close", "closed"),
]


@pytest.mark.parametrize(("source", "event", "target"), LEGAL)
async def test_legal_event_moves_the_ticket(source: str, event: str, target: str) -> None:
    record = Record(source)
    await apply_event(TicketLifecycle, record, event, TicketErrorCode.INVALID_TRANSITION)
    assert record.status == target


@pytest.mark.parametrize("source", ["new", "open", "pending"])
async def test_resolving_needs_a_public_reply_or_a_reason(source: str) -> None:
    for facts in ({"has_public_reply": True}, {"reason": "Duplicate of another ticket."}):
        record = Record(source)
        await apply_event(
            TicketLifecycle, record, "resolve", TicketErrorCode.INVALID_TRANSITION, facts=facts
        )
        assert record.status == "resolved"
    record = Record(source)
    with pytest.raises(DomainError) as refused:
        await apply_event(
            TicketLifecycle, record, "resolve", TicketErrorCode.INVALID_TRANSITION,
            facts={"has_public_reply": False, "reason": "   "},
        )  # fmt: skip
    assert (refused.value.code, refused.value.field) == ("GUARD_FAILED", "reason")
    assert record.status == source


async def test_reopening_works_within_the_window_only() -> None:
    record = Record("resolved")
    with pytest.raises(DomainError) as late:
        await apply_event(
            TicketLifecycle, record, "reopen", TicketErrorCode.INVALID_TRANSITION,
            facts={"reopen_window_open": False},
        )  # fmt: skip
    assert (late.value.code, record.status) == ("GUARD_FAILED", "resolved")
    await apply_event(
        TicketLifecycle, record, "reopen", TicketErrorCode.INVALID_TRANSITION,
        facts={"reopen_window_open": True},
    )  # fmt: skip
    assert record.status == "open"


def test_closed_is_final_and_pending_waits_only_for_the_customer_or_a_resolution() -> None:
    assert allowed_events(TicketLifecycle, "closed") == []
    assert allowed_events(TicketLifecycle, "pending") == ["customer_replied", "resolve"]
