"""The contact lifecycle machine: its graph, legal and illegal events, and what derives from it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.contacts import ContactErrorCode
from domain.errors import DomainError
from domain.lifecycles import allowed_events, apply_event, describe
from domain.lifecycles.contact import ContactEvent, ContactLifecycle, ContactStatus


@dataclass
class Record:
    status: str = "new"


LEGAL = [
    ("new", "mark_hot", "hot"),
    ("new", "mark_cold", "cold"),
    ("new", "mark_not_interested", "not_interested"),
    ("hot", "mark_cold", "cold"),
    ("hot", "mark_not_interested", "not_interested"),
    ("hot", "convert", "converted"),
    ("cold", "mark_hot", "hot"),
    ("cold", "mark_not_interested", "not_interested"),
    ("cold", "reopen", "new"),
    ("not_interested", "reopen", "new"),
]


@pytest.mark.parametrize(("source", "event", "target"), LEGAL)
async def test_legal_event_moves_the_record(source: str, event: str, target: str) -> None:
    record = Record(source)
    await apply_event(ContactLifecycle, record, event, ContactErrorCode.INVALID_TRANSITION)
    assert record.status == target


ILLEGAL = [
    (state.value, event.value)
    for state in ContactStatus
    for event in ContactEvent
    if (state.value, event.value) not in {(s, e) for s, e, _ in LEGAL}
]


@pytest.mark.parametrize(("source", "event"), ILLEGAL)
async def test_illegal_event_is_refused_and_leaves_status(source: str, event: str) -> None:
    record = Record(source)
    with pytest.raises(DomainError) as raised:
        await apply_event(ContactLifecycle, record, event, ContactErrorCode.INVALID_TRANSITION)
    assert raised.value.code is ContactErrorCode.INVALID_TRANSITION
    assert raised.value.details["allowedEvents"] == allowed_events(ContactLifecycle, source)
    assert record.status == source


def test_converted_is_the_only_final_state_and_allows_nothing() -> None:
    lifecycle = describe(ContactLifecycle)
    assert [s.id for s in lifecycle.states if s.final] == ["converted"]
    assert allowed_events(ContactLifecycle, "converted") == []


def test_new_is_the_initial_state() -> None:
    assert [s.id for s in describe(ContactLifecycle).states if s.initial] == ["new"]


def test_enums_are_derived_from_the_machine() -> None:
    assert [s.value for s in ContactStatus] == [s.value for s in ContactLifecycle.states]
    assert [e.value for e in ContactEvent] == [e.id for e in describe(ContactLifecycle).events]


def test_diagram_lists_every_transition() -> None:
    lifecycle = describe(ContactLifecycle)
    for transition in lifecycle.transitions:
        assert f"{transition.source} --> {transition.target}" in lifecycle.diagram
