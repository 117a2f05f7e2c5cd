"""The records flows act on, by record type: their vocabulary, snapshot and lifecycle changes.

Each record type names its lifecycle machine (from `domain.lifecycles.registry`) and its own
service functions, so a change a flow makes (a status, an owner, a calling task) goes through
the same machine, checks, audit row and event as the API's, acting as the agency's system user.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from typing import Any, Protocol, TypeVar
from uuid import UUID, uuid4

from statemachine import StateMachine

from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.customers import Customer
from db.deals import Deal
from db.leads import Lead
from db.meetings import Meeting
from domain import calling_tasks, contacts, customers, deals, leads, meetings
from domain.actors import Actor
from domain.errors import DomainError
from domain.flow_runs import at_most_once
from domain.flows.definitions import (
    OWNER,
    OWNER_FIELD,
    CallAbout,
    RecordVocabulary,
    person_role,
)
from domain.flows.people import user_with_role
from domain.lifecycles import describe
from domain.lifecycles.registry import MACHINES
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user

R = TypeVar("R")


class FlowRecordErrorCode(StrEnum):
    UNKNOWN_RECORD_TYPE = "UNKNOWN_RECORD_TYPE"
    NOT_FOUND = "NOT_FOUND"
    NO_OWNER = "NO_OWNER"
    INVALID = "INVALID"


@dataclass(frozen=True, slots=True)
class FlowRecordType:
    """How flows read one record type, change its status, assign it and call about it."""

    machine: type[StateMachine]
    read: Callable[[Actor, UUID], Awaitable[dict[str, Any]]]
    # Applies a lifecycle event; None where a status change needs more than an event (a deal
    # moves to a stage, and losing needs a reason): flows then only wait for its changes.
    transition: Callable[[Actor, UUID, str], Awaitable[str]] | None
    # The record service's update (fields as the API gives them), for `assign`; None where
    # flows may assign nobody (`assignable` is empty).
    update: Callable[[Actor, UUID, dict[str, Any]], Awaitable[Any]] | None
    # A snapshot with every field, from which the fields flows may use are derived.
    example: Callable[[], dict[str, Any]]
    # The domain events the record's service appends (`<record type>.<verb>`). Deletion is
    # not among them: it cancels the record's runs instead (see domain.flow_triggers).
    verbs: tuple[str, ...] = ("created", "updated", "transitioned")
    transition_verb: str = "transitioned"
    # `assign.as` -> the field of the record it sets.
    assignable: Mapping[str, str] = field(default_factory=dict)
    # `create_calling_task.about` -> {the task's link field: the snapshot field holding it}.
    # A task linked only to a lead or a deal calls its contact and customer.
    calls: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Record types whose events also reach this one's runs (see domain.flow_triggers).
    related: frozenset[str] = frozenset()

    @property
    def lifecycle_events(self) -> frozenset[str]:
        """The events a flow's `transition` step may apply to this record type."""
        if self.transition is None:
            return frozenset()
        return frozenset(event.id for event in describe(self.machine).events)


class _HasStatus(Protocol):
    status: str


def _reads(
    get: Callable[[Actor, UUID], Awaitable[R]], snapshot: Callable[[R], dict[str, Any]]
) -> Callable[[Actor, UUID], Awaitable[dict[str, Any]]]:
    """A record type's `read`: its service's get (row scope and all), as a snapshot."""

    async def read(actor: Actor, record_id: UUID) -> dict[str, Any]:
        return snapshot(await get(actor, record_id))

    return read


def _status_after(
    transition: Callable[[Actor, UUID, str], Awaitable[_HasStatus]],
) -> Callable[[Actor, UUID, str], Awaitable[str]]:
    """A record type's `transition`: its service's, answering the status it led to."""

    async def apply(actor: Actor, record_id: UUID, event: str) -> str:
        return (await transition(actor, record_id, event)).status

    return apply


def _task_as_flows_see_it(task: CallingTask) -> dict[str, Any]:
    """The task's snapshot; its assignee owns it (row scope follows the assignee), so flows
    also see the assignee as `owner_id` (`notify: {to: owner}` reaches the assignee)."""
    found = calling_tasks.snapshot(task)
    return {**found, OWNER_FIELD: found["assignee_id"]}


def _example_deal() -> dict[str, Any]:
    deal = Deal(agency_id=uuid4(), name="", expected_close_date=date.min)
    # Foreign key ids are attributes only once Tortoise is initialised; validation is not.
    deal.pipeline_id = deal.stage_id = None
    return deals.snapshot(deal)


CALLING_TASK = calling_tasks.AGGREGATE
MEETING = meetings.AGGREGATE
# A call about the run's record, or only about its contact or its customer.
_CALLS_ABOUT_SALES_RECORD: dict[str, Mapping[str, str]] = {
    CallAbout.CONTACT: {"contact_id": "contact_id"},
    CallAbout.CUSTOMER: {"customer_id": "customer_id"},
}

FLOW_RECORDS: dict[str, FlowRecordType] = {
    contacts.AGGREGATE: FlowRecordType(
        machine=MACHINES["Contact"],
        read=_reads(contacts.get_contact, contacts.snapshot),
        transition=_status_after(contacts.transition_contact),
        update=contacts.update_contact,
        example=lambda: contacts.snapshot(Contact(agency_id=uuid4(), first_name="")),
        assignable={"owner": "owner_id"},
        calls={CallAbout.RECORD: {"contact_id": "id"}, CallAbout.CONTACT: {"contact_id": "id"}},
        related=frozenset({CALLING_TASK, MEETING}),
    ),
    customers.AGGREGATE: FlowRecordType(
        machine=MACHINES["Customer"],
        read=_reads(customers.get_customer, customers.snapshot),
        transition=_status_after(customers.transition_customer),
        update=customers.update_customer,
        example=lambda: customers.snapshot(Customer(agency_id=uuid4(), name="")),
        verbs=("created", "updated", "transitioned", "contact_linked", "contact_unlinked"),
        # The owner is the relationship manager; operations is who runs its day to day.
        assignable={"owner": "owner_id", "operations": "operations_user_id"},
        calls={
            CallAbout.RECORD: {"customer_id": "id"},
            CallAbout.CUSTOMER: {"customer_id": "id"},
        },
        related=frozenset({CALLING_TASK}),
    ),
    CALLING_TASK: FlowRecordType(
        machine=MACHINES["CallingTask"],
        read=_reads(calling_tasks.get_calling_task, _task_as_flows_see_it),
        transition=_status_after(calling_tasks.transition_calling_task),
        update=calling_tasks.update_calling_task,
        example=lambda: _task_as_flows_see_it(CallingTask(agency_id=uuid4(), subject="")),
        assignable={"owner": "assignee_id"},
        calls={
            CallAbout.RECORD: {"contact_id": "contact_id", "customer_id": "customer_id"},
            **_CALLS_ABOUT_SALES_RECORD,
        },
    ),
    leads.AGGREGATE: FlowRecordType(
        machine=MACHINES["Lead"],
        read=_reads(leads.get_lead, leads.snapshot),
        transition=_status_after(leads.transition_lead),
        update=leads.update_lead,
        example=lambda: leads.snapshot(Lead(agency_id=uuid4(), title="")),
        assignable={"owner": "owner_id"},
        calls={CallAbout.RECORD: {"lead_id": "id"}, **_CALLS_ABOUT_SALES_RECORD},
        related=frozenset({CALLING_TASK, MEETING}),
    ),
    deals.AGGREGATE: FlowRecordType(
        machine=MACHINES["Deal"],
        read=_reads(deals.get_deal, deals.snapshot),
        transition=None,
        update=deals.update_deal,
        example=_example_deal,
        assignable={"owner": "owner_id"},
        calls={CallAbout.RECORD: {"deal_id": "id"}, **_CALLS_ABOUT_SALES_RECORD},
        related=frozenset({CALLING_TASK, MEETING}),
    ),
    # Booking needs a slot and the contact, so flows only wait for a meeting's changes.
    MEETING: FlowRecordType(
        machine=MACHINES["Meeting"],
        read=_reads(meetings.get_meeting, meetings.snapshot),
        transition=None,
        update=None,
        example=lambda: meetings.snapshot(
            Meeting(agency_id=uuid4(), contact_id=uuid4(), title="", duration_minutes=30)
        ),
        verbs=(
            "proposed",
            *(event.removeprefix("meeting.") for event in meetings.EVENT_TYPES.values()),
        ),
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
            lifecycle_events=kind.lifecycle_events,
            fields=frozenset(fields),
            list_fields=frozenset(lists),
            has_owner=OWNER_FIELD in example,
            related=kind.related,
            calls_about=frozenset(kind.calls),
            assignable_as=frozenset(kind.assignable),
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
    apply = _kind(record_type).transition
    if apply is None:
        raise DomainError(
            FlowRecordErrorCode.INVALID, f"Flows change no {record_type} status.", "event"
        )
    target = _record_id(record_id)

    async def transition(_connection: Any) -> dict[str, Any]:
        return {"event": event, "status": await apply(actor, target, event)}

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
    kind: NotificationKind = NotificationKind.FLOW,
) -> int:
    """Notify for a flow step, once per key; the inbox notification's id (0 when the user
    takes this kind by email only, or not at all)."""

    async def notify(connection: Any) -> dict[str, Any]:
        notification = await notify_user(
            actor, user_id, message, record_type, record_id, workflow_id, connection, kind
        )
        return {"notification_id": notification.id if notification else 0}

    result = await at_most_once(idempotency_key, workflow_id, "notify", notify)
    return int(result["notification_id"])


async def person_id(actor: Actor, person: str, record: Mapping[str, Any]) -> UUID:
    """The user a step's person means: the record's owner, one user of a role, or a user id.

    (`assignee:<step>` is resolved by the run, which knows the tasks it created.)
    """
    if person == OWNER:
        owner = record.get(OWNER_FIELD)
        if not owner:
            raise DomainError(FlowRecordErrorCode.NO_OWNER, "The record has no owner.", "to")
        return UUID(str(owner))
    role = person_role(person)
    if role is not None:
        return await user_with_role(actor, role)
    try:
        return UUID(person)
    except ValueError:
        raise DomainError(FlowRecordErrorCode.INVALID, f"Not a person: {person!r}.", "to") from None


async def create_calling_task(
    actor: Actor,
    record_type: str,
    record_id: str,
    about: str,
    request: Mapping[str, Any],
    idempotency_key: str,
    workflow_id: str,
) -> dict[str, str]:
    """Create a flow step's calling task through the calling task service, once per key.

    `request` holds the rendered `subject` and `notes`, `due_at` and the `assignee` person.
    The task's id and its assignee's id.
    """
    kind = _kind(record_type)
    fields = kind.calls.get(about)
    if fields is None:
        raise DomainError(
            FlowRecordErrorCode.INVALID, f"No calls about {about!r} on {record_type}.", "about"
        )

    async def create(_connection: Any) -> dict[str, Any]:
        record = await kind.read(actor, _record_id(record_id))
        assignee = await person_id(actor, str(request["assignee"]), record)
        due_at = request["due_at"]
        if not isinstance(due_at, datetime):
            due_at = datetime.fromisoformat(str(due_at))
        task = await calling_tasks.create_calling_task(
            actor,
            {
                "subject": request["subject"],
                "notes": request["notes"],
                "due_at": due_at,
                "assignee_id": assignee,
                **{link: record.get(source) for link, source in fields.items()},
            },
        )
        return {"task_id": str(task.id), "assignee_id": str(task.assignee_id)}

    result = await at_most_once(idempotency_key, workflow_id, "create_calling_task", create)
    return {"task_id": str(result["task_id"]), "assignee_id": str(result["assignee_id"])}


async def assign_record(
    actor: Actor,
    record_type: str,
    record_id: str,
    as_: str,
    person: str,
    idempotency_key: str,
    workflow_id: str,
) -> str:
    """Give the record to a person (as its owner, or as another of its people), once per key;
    the id of the user it was given to."""
    kind = _kind(record_type)
    target_field = kind.assignable.get(as_)
    update = kind.update
    if target_field is None or update is None:
        raise DomainError(
            FlowRecordErrorCode.INVALID, f"{record_type} cannot be assigned as {as_!r}.", "as"
        )
    target = _record_id(record_id)

    async def assign(_connection: Any) -> dict[str, Any]:
        user_id = await person_id(actor, person, await kind.read(actor, target))
        await update(actor, target, {target_field: user_id})
        return {"user_id": str(user_id)}

    result = await at_most_once(idempotency_key, workflow_id, "assign", assign)
    return str(result["user_id"])
