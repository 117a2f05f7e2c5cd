"""The deal lifecycle machine: stage kinds pick the event, losing needs a reason, only admins
reopen a closed deal, and closing records why and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.deals import DealErrorCode
from domain.errors import DomainError
from domain.lifecycles import allowed_events, apply_event, describe
from domain.lifecycles.deal import (
    DealEvent,
    DealGuardCode,
    DealLifecycle,
    DealStatus,
    event_towards,
)
from domain.money import weighted
from domain.pipelines import StageKind

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
FACTS = {"reason": "Best price", "by_admin": True, "now": NOW}


@dataclass
class Record:
    status: str = "open"
    close_reason: str = ""
    closed_at: datetime | None = None


async def send(record: Record, event: str, **facts: Any) -> None:
    await apply_event(DealLifecycle, record, event, DealErrorCode.INVALID_TRANSITION, facts=facts)


LEGAL = [
    ("open", "move", "open"),
    ("open", "win", "won"),
    ("open", "lose", "lost"),
    ("won", "reopen", "open"),
    ("lost", "reopen", "open"),
]


@pytest.mark.parametrize(("source", "event", "target"), LEGAL)
async def test_legal_event_moves_the_deal(source: str, event: str, target: str) -> None:
    record = Record(source)
    await send(record, event, **FACTS)
    assert record.status == target


ILLEGAL = [
    (state.value, event.value)
    for state in DealStatus
    for event in DealEvent
    if (state.value, event.value) not in {(s, e) for s, e, _ in LEGAL}
]


@pytest.mark.parametrize(("source", "event"), ILLEGAL)
async def test_illegal_event_is_refused_and_leaves_status(source: str, event: str) -> None:
    record = Record(source)
    with pytest.raises(DomainError) as raised:
        await send(record, event, **FACTS)
    assert raised.value.code is DealErrorCode.INVALID_TRANSITION
    assert raised.value.details["allowedEvents"] == allowed_events(DealLifecycle, source)
    assert record.status == source


@pytest.mark.parametrize("reason", ["", "   "])
async def test_losing_without_a_reason_is_refused(reason: str) -> None:
    record = Record("open")
    with pytest.raises(DomainError) as raised:
        await send(record, "lose", reason=reason)
    assert (raised.value.code, raised.value.field) == (DealGuardCode.REASON_REQUIRED, "reason")
    assert DealErrorCode(raised.value.code.value) is DealErrorCode.REASON_REQUIRED
    assert (record.status, record.close_reason, record.closed_at) == ("open", "", None)


async def test_winning_needs_no_reason_and_records_when() -> None:
    record = Record("open")
    await send(record, "win", now=NOW)
    assert (record.status, record.close_reason, record.closed_at) == ("won", "", NOW)


async def test_losing_records_the_reason_and_when() -> None:
    record = Record("open")
    await send(record, "lose", reason="  Went with a competitor ", now=NOW)
    assert (record.status, record.close_reason, record.closed_at) == (
        "lost",
        "Went with a competitor",
        NOW,
    )


@pytest.mark.parametrize("closed", ["won", "lost"])
async def test_only_an_admin_reopens_a_closed_deal(closed: str) -> None:
    record = Record(closed, close_reason="Budget cut", closed_at=NOW)
    with pytest.raises(DomainError) as raised:
        await send(record, "reopen", by_admin=False)
    assert raised.value.code is DealGuardCode.FORBIDDEN
    assert record.status == closed
    await send(record, "reopen", by_admin=True)
    assert (record.status, record.close_reason, record.closed_at) == ("open", "", None)


async def test_moving_between_open_stages_leaves_the_deal_open() -> None:
    record = Record("open")
    await send(record, "move")
    assert (record.status, record.closed_at) == ("open", None)


@pytest.mark.parametrize(
    ("status", "kind", "event"),
    [
        ("open", StageKind.OPEN, "move"),
        ("open", StageKind.WON, "win"),
        ("open", StageKind.LOST, "lose"),
        ("won", StageKind.OPEN, "reopen"),
        ("lost", StageKind.OPEN, "reopen"),
        ("won", StageKind.LOST, None),
        ("won", StageKind.WON, None),
        ("lost", StageKind.WON, None),
        ("lost", StageKind.LOST, None),
    ],
)
def test_target_stage_kind_decides_the_event(
    status: str, kind: StageKind, event: str | None
) -> None:
    assert event_towards(status, kind.value) == event


def test_stage_kinds_are_the_deal_statuses() -> None:
    assert {k.value for k in StageKind} == {s.value for s in DealStatus}


def test_open_is_initial_and_no_state_is_final_because_admins_may_reopen() -> None:
    lifecycle = describe(DealLifecycle)
    assert [s.id for s in lifecycle.states if s.initial] == ["open"]
    assert [s.id for s in lifecycle.states if s.final] == []


def test_every_guard_code_is_a_deal_error_code() -> None:
    for code in DealGuardCode:
        assert DealErrorCode(code.value)


@pytest.mark.parametrize(
    ("amount", "probability", "expected"),
    [
        ("1000.00", 25, "250.00"),
        ("0.05", 50, "0.03"),  # half a cent rounds up
        ("999.99", 0, "0.00"),
        ("123.45", 100, "123.45"),
    ],
)
def test_weighted_amount_is_amount_times_probability_to_the_cent(
    amount: str, probability: int, expected: str
) -> None:
    assert weighted(Decimal(amount), probability) == Decimal(expected)
