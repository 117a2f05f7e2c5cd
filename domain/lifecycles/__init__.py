"""Lifecycle machinery shared by every aggregate: describe a machine, apply an event to a record.

Each lifecycle is declared once as a python-statemachine class; enums of states and events,
allowed events and diagrams are all derived from it here, never restated.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, cast

from statemachine import StateMachine
from statemachine.contrib.diagram import MermaidGraphMachine
from statemachine.event import Event
from statemachine.exceptions import TransitionNotAllowed

from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class LifecycleState:
    id: str
    name: str
    initial: bool
    final: bool


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class LifecycleTransition:
    event: str
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A machine's graph as data, for the API and for documentation."""

    name: str
    states: tuple[LifecycleState, ...]
    events: tuple[LifecycleEvent, ...]
    transitions: tuple[LifecycleTransition, ...]
    diagram: str  # Mermaid stateDiagram-v2 source


@cache
def describe(machine: type[StateMachine]) -> Lifecycle:
    states = tuple(
        LifecycleState(id=s.value, name=s.name, initial=s.initial, final=s.final)
        for s in machine.states
    )
    # On the class, `events` is the list of declared events (on instances it is a property).
    declared = cast("list[Event]", machine.events)
    events = tuple(LifecycleEvent(id=e.id, name=e.name) for e in declared)
    transitions = tuple(
        LifecycleTransition(event=event.id, source=t.source.value, target=t.target.value)
        for s in machine.states
        for t in s.transitions
        for event in t.events
    )
    return Lifecycle(
        name=machine.__name__.removesuffix("Lifecycle"),
        states=states,
        events=events,
        transitions=transitions,
        diagram=MermaidGraphMachine(machine).get_mermaid(),
    )


def state_enum(machine: type[StateMachine], name: str) -> type[StrEnum]:
    """A StrEnum of the machine's states (member NAME -> stored value)."""
    return StrEnum(name, {s.id.upper(): s.value for s in machine.states})  # type: ignore[return-value]


def event_enum(machine: type[StateMachine], name: str) -> type[StrEnum]:
    """A StrEnum of the machine's events (member NAME -> event id)."""
    members = {e.id.upper(): e.id for e in describe(machine).events}
    return StrEnum(name, members)  # type: ignore[return-value]


def allowed_events(machine: type[StateMachine], status: str) -> list[str]:
    """Events that may be sent to a record in `status`, in declaration order."""
    return [t.event for t in describe(machine).transitions if t.source == status]


async def apply_event(
    machine: type[StateMachine],
    record: Any,
    event: str,
    invalid_transition: StrEnum,
    state_field: str = "status",
    facts: dict[str, Any] | None = None,
) -> None:
    """Send `event` to a machine bound to `record`; the machine sets `record.<state_field>`.

    Guards and actions run inside the machine. `facts` are what its validators need beyond
    the record (e.g. "has a primary contact"), gathered by the service, so machines stay free
    of I/O. An illegal event raises a DomainError with the events that are allowed instead; a
    failed validator raises its own DomainError; either way the record is left unchanged.
    """
    bound = machine(model=record, state_field=state_field)
    before = getattr(record, state_field)
    try:
        result = bound.send(event, **(facts or {}))
        if inspect.isawaitable(result):
            await result
    except DomainError:
        setattr(record, state_field, before)
        raise
    except TransitionNotAllowed as exc:
        setattr(record, state_field, before)
        allowed = allowed_events(machine, before)
        raise DomainError(
            invalid_transition,
            f"{event.upper()} is not allowed when the status is {str(before).upper()}; "
            f"allowed: {', '.join(e.upper() for e in allowed) or 'none (final state)'}.",
            field="event",
            details={"allowedEvents": allowed},
        ) from exc
