"""The lead lifecycle machine: its graph, legal and illegal events, and the qualify guard."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from domain.errors import DomainError
from domain.leads import LeadErrorCode
from domain.lifecycles import allowed_events, apply_event, describe
from domain.lifecycles.codes import LifecycleErrorCode
from domain.lifecycles.lead import LeadEvent, LeadLifecycle, LeadStatus


@dataclass
class Record:
    status: str = "new"
    services: list[str] = field(default_factory=lambda: ["SEO audit"])


LEGAL = [
    ("new", "qualify", "qualified"),
    ("new", "disqualify", "disqualified"),
    ("qualified", "disqualify", "disqualified"),
    ("qualified", "convert", "converted"),
    ("disqualified", "reopen", "new"),
]


@pytest.mark.parametrize(("source", "event", "target"), LEGAL)
async def test_legal_event_moves_the_lead(source: str, event: str, target: str) -> None:
    record = Record(source)
    await apply_event(LeadLifecycle, record, event, LeadErrorCode.INVALID_TRANSITION)
    assert record.status == target


ILLEGAL = [
    (state.value, event.value)
    for state in LeadStatus
    for event in LeadEvent
    if (state.value, event.value) not in {(s, e) for s, e, _ in LEGAL}
]


@pytest.mark.parametrize(("source", "event"), ILLEGAL)
async def test_illegal_event_is_refused_and_leaves_status(source: str, event: str) -> None:
    record = Record(source)
    with pytest.raises(DomainError) as raised:
        await apply_event(LeadLifecycle, record, event, LeadErrorCode.INVALID_TRANSITION)
    assert raised.value.code is LeadErrorCode.INVALID_TRANSITION
    assert raised.value.details["allowedEvents"] == allowed_events(LeadLifecycle, source)
    assert record.status == source


async def test_qualifying_needs_a_scope_of_work() -> None:
    record = Record("new", services=[])
    with pytest.raises(DomainError) as raised:
        await apply_event(LeadLifecycle, record, "qualify", LeadErrorCode.INVALID_TRANSITION)
    assert raised.value.code is LifecycleErrorCode.GUARD_FAILED
    assert raised.value.field == "services"
    assert record.status == "new"


def test_converted_is_the_only_final_state_and_new_the_initial_one() -> None:
    lifecycle = describe(LeadLifecycle)
    assert [s.id for s in lifecycle.states if s.final] == ["converted"]
    assert [s.id for s in lifecycle.states if s.initial] == ["new"]
    assert allowed_events(LeadLifecycle, "converted") == []


def test_enums_are_derived_from_the_machine() -> None:
    assert [s.value for s in LeadStatus] == [s.value for s in LeadLifecycle.states]
    assert [e.value for e in LeadEvent] == [e.id for e in describe(LeadLifecycle).events]


def test_every_error_code_the_machine_raises_is_a_lead_error_code() -> None:
    for code in LifecycleErrorCode:
        if code is not LifecycleErrorCode.INVALID_TRANSITION:
            assert LeadErrorCode(code.value)
