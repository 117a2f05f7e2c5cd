"""The records flows act on, by record type: their vocabulary, snapshot and lifecycle changes.

Each record type names its lifecycle machine (from `domain.lifecycles.registry`) and its own
service functions, so a change a flow makes goes through the same machine, audit row and event
as the API's. Customers and calling tasks plug in here as one entry each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any
from uuid import UUID, uuid4

from statemachine import StateMachine

from db.contacts import Contact
from domain import contacts
from domain.actors import Actor
from domain.errors import DomainError
from domain.flow_runs import at_most_once
from domain.flows.definitions import OWNER_FIELD, RecordVocabulary
from domain.lifecycles import describe
from domain.lifecycles.registry import MACHINES
from domain.notifications import notify_user


class FlowRecordErrorCode(StrEnum):
    UNKNOWN_RECORD_TYPE = "UNKNOWN_RECORD_TYPE"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True, slots=True)
class FlowRecordType:
    """How flows read one record type and change its status."""

    machine: type[StateMachine]
    read: Callable[[Actor, UUID], Awaitable[dict[str, Any]]]
    transition: Callable[[Actor, UUID, str], Awaitable[str]]
    # A snapshot with every field, from which the fields flows may use are derived.
    example: Callable[[], dict[str, Any]]
    # The domain events the record's service appends (`<record type>.<verb>`). Deletion is
    # not among them: it cancels the record's runs instead (see domain.flow_triggers).
    verbs: tuple[str, ...] = ("created", "updated", "transitioned")
    transition_verb: str = "transitioned"


async def _read_contact(actor: Actor, contact_id: UUID) -> dict[str, Any]:
    return contacts.snapshot(await contacts.get_contact(actor, contact_id))


async def _transition_contact(actor: Actor, contact_id: UUID, event: str) -> str:
    return (await contacts.transition_contact(actor, contact_id, event)).status


def _example_contact() -> dict[str, Any]:
    return contacts.snapshot(Contact(agency_id=uuid4(), first_name=""))


FLOW_RECORDS: dict[str, FlowRecordType] = {
    contacts.AGGREGATE: FlowRecordType(
        machine=MACHINES["Contact"],
        read=_read_contact,
        transition=_transition_contact,
        example=_example_contact,
    ),
}


def _field_paths(snapshot: Mapping[str, Any], prefix: str = "") -> tuple[set[str], set[str]]:
    """Every field path of a snapshot (nested ones too) and those holding lists."""
    fields: set[str] = set()
    lists: set[str] = set()
    for name, value in snapshot.items():
        path = f"{prefix}{name}"
        fields.add(path)
        if isinstance(value, Mapping):
            nested, nested_lists = _field_paths(value, f"{path}.")
            fields |= nested
            lists |= nested_lists
        elif isinstance(value, list):
            lists.add(path)
    return fields, lists


@cache
def flow_vocabulary() -> dict[str, RecordVocabulary]:
    """What definitions may name, per record type, derived from the machines and snapshots."""
    vocabulary = {}
    for record_type, kind in FLOW_RECORDS.items():
        lifecycle = describe(kind.machine)
        example = kind.example()
        fields, lists = _field_paths(example)
        vocabulary[record_type] = RecordVocabulary(
            events=frozenset(f"{record_type}.{verb}" for verb in kind.verbs),
            transition_event=f"{record_type}.{kind.transition_verb}",
            states=frozenset(state.id for state in lifecycle.states),
            lifecycle_events=frozenset(event.id for event in lifecycle.events),
            fields=frozenset(fields),
            list_fields=frozenset(lists),
            has_owner=OWNER_FIELD in example,
        )
    return vocabulary


def _kind(record_type: str) -> FlowRecordType:
    kind = FLOW_RECORDS.get(record_type)
    if kind is None:
        raise DomainError(
            FlowRecordErrorCode.UNKNOWN_RECORD_TYPE,
            f"Flows cannot act on {record_type!r} records.",
            "record_type",
        )
    return kind


def _record_id(record_id: str) -> UUID:
    try:
        return UUID(record_id)
    except ValueError:
        raise DomainError(
            FlowRecordErrorCode.NOT_FOUND, f"No record with id {record_id!r}.", "record_id"
        ) from None


async def read_record(actor: Actor, record_type: str, record_id: str) -> dict[str, Any]:
    """The record as flows see it: its snapshot (the same one audit rows and events carry)."""
    return await _kind(record_type).read(actor, _record_id(record_id))


async def apply_lifecycle_event(
    actor: Actor,
    record_type: str,
    record_id: str,
    event: str,
    idempotency_key: str,
    workflow_id: str,
) -> str:
    """Apply a lifecycle event for a flow step, once per key; the record's status after it.

    An event the machine refuses raises the record service's INVALID_TRANSITION error.
    """
    kind = _kind(record_type)
    target = _record_id(record_id)

    async def transition(_connection: Any) -> dict[str, Any]:
        return {"event": event, "status": await kind.transition(actor, target, event)}

    result = await at_most_once(idempotency_key, workflow_id, "transition", transition)
    return str(result["status"])


async def notify_about_record(
    actor: Actor,
    user_id: UUID,
    message: str,
    record_type: str,
    record_id: str,
    idempotency_key: str,
    workflow_id: str,
) -> int:
    """Leave a notification for a flow step, once per key; the notification's id."""

    async def notify(connection: Any) -> dict[str, Any]:
        notification = await notify_user(
            actor, user_id, message, record_type, record_id, workflow_id, connection
        )
        return {"notification_id": notification.id}

    result = await at_most_once(idempotency_key, workflow_id, "notify", notify)
    return int(result["notification_id"])
