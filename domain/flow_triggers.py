"""Which flows a domain event starts or wakes, written to the outbox in the event's transaction.

`domain.events.append_event` reads each change's `route_for` and writes it (`write_route`) on
the change's own connection, so a flow start (or a signal to a waiting run) exists if and only
if the change does. Events of a calling task also reach the runs of the contact, customer, lead
and deal it is about, and those of a meeting the runs of its contact, lead and deal. This
module imports only db models and pure modules: `domain.events` imports it.

Workflow ids are `flow:<key>:<record type>:<record id>:<trigger event id>`: one per trigger,
so the relay's retries of one start can never start a second run (it starts with
REJECT_DUPLICATE), while a record may run the same flow again later, e.g. each time it turns
Hot. At most one run of a flow is active per record: a trigger while one runs starts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from db.calling_tasks import CallingTask
from db.events import Event
from db.flow_runs import FlowRun
from db.flows import FlowVersion
from db.meetings import Meeting
from domain.flows.definitions import (
    ACTIVE_RUN_STATUSES,
    FlowDefinition,
    FlowRunStatus,
    FlowVersionStatus,
)
from domain.outbox import OutboxKind, enqueue

# Signals the FlowRun workflow understands (its signal method names).
SIGNAL_RECORD_EVENT = "record_event"
SIGNAL_CANCEL = "cancel"
SIGNAL_RETRY_STEP = "retry_step"
# A deleted (or erased) record has nothing left for its runs to act on: they are cancelled.
ENDING_SUFFIXES = (".deleted", ".erased")
# Events of a calling task or a meeting also reach the runs of the records it is about (its
# `<type>_id`s): record type -> its model and the record types it links.
ABOUT_OTHERS: dict[str, tuple[type[Model], tuple[str, ...]]] = {
    "calling_task": (CallingTask, ("contact", "customer", "lead", "deal")),
    "meeting": (Meeting, ("contact", "lead", "deal")),
}
# A consent change names its preference row; it reaches the runs of the record whose consent
# it is (the `record_type` and `record_id` in its `changes`), which may stop on it.
MESSAGE_PREFERENCE = "message_preference"
# Inbound email announces the message that made a new contact (and its lead) as the contact's
# first `email.received`, with this outcome (`domain.inbound_routing.Outcome.NEW_LEAD`, not
# imported: it imports `domain.events`). It is why the contact exists, not an answer to the
# runs its creation started: they do not hear of it (a nurture would stop as `replied`).
EMAIL_RECEIVED = "email.received"
FIRST_MESSAGE_OUTCOME = "new_lead"


def workflow_id_for(flow_key: str, record_type: str, record_id: str, trigger_event_id: int) -> str:
    return f"flow:{flow_key}:{record_type}:{record_id}:{trigger_event_id}"


def start_payload(
    agency_id: UUID, definition: FlowDefinition, record_type: str, record_id: str
) -> dict[str, Any]:
    """What the relay needs to start the run: the FlowRun workflow's input, as JSON values.

    The whole definition travels with it, so the run is pinned to this version.
    """
    return {
        "agency_id": str(agency_id),
        "flow_key": definition.key,
        "version": definition.version,
        "record_type": record_type,
        "record_id": record_id,
        "definition": definition.document(),
    }


async def _flow_runs_on(
    agency_id: UUID, flow_key: str, record_type: str, record_id: str, connection: BaseDBAsyncClient
) -> bool:
    active = FlowRun.filter(
        agency_id=agency_id,
        flow_key=flow_key,
        record_type=record_type,
        record_id=record_id,
        status__in=list(ACTIVE_RUN_STATUSES),
    )
    return bool(await active.using_db(connection).exists())


async def _create_run(
    agency_id: UUID,
    definition: FlowDefinition,
    record_type: str,
    record_id: str,
    trigger_event_id: int,
    connection: BaseDBAsyncClient,
) -> FlowRun:
    """A pending run and its start in the outbox."""
    workflow_id = workflow_id_for(definition.key, record_type, record_id, trigger_event_id)
    run = await FlowRun.create(
        agency_id=agency_id,
        workflow_id=workflow_id,
        flow_key=definition.key,
        version=definition.version,
        record_type=record_type,
        record_id=record_id,
        trigger_event_id=trigger_event_id,
        status=FlowRunStatus.PENDING,
        listens_to=definition.listens_to(),
        using_db=connection,
    )
    payload = start_payload(agency_id, definition, record_type, record_id)
    await enqueue(agency_id, OutboxKind.START_FLOW, workflow_id, payload, connection)
    return run


async def start_flow_run(
    agency_id: UUID,
    definition: FlowDefinition,
    record_type: str,
    record_id: str,
    trigger_event_id: int,
    connection: BaseDBAsyncClient,
) -> FlowRun | None:
    """A pending run and its start in the outbox; None if this flow already runs on the record."""
    if await _flow_runs_on(agency_id, definition.key, record_type, record_id, connection):
        return None
    return await _create_run(
        agency_id, definition, record_type, record_id, trigger_event_id, connection
    )


async def signal_run(
    run: FlowRun, signal: str, connection: BaseDBAsyncClient, argument: Any = None
) -> None:
    payload: dict[str, Any] = {"signal": signal}
    if argument is not None:
        payload["argument"] = argument
    await enqueue(run.agency_id, OutboxKind.SIGNAL_FLOW, run.workflow_id, payload, connection)


@dataclass(frozen=True)
class PendingEvent:
    """An event about to be appended: everything routing needs but its id."""

    agency_id: UUID
    type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class EventRoute:
    """What an event does to flows, decided before the event exists (see `route_for`)."""

    cancels: list[FlowRun] = field(default_factory=list)
    tells: list[FlowRun] = field(default_factory=list)
    starts: list[FlowDefinition] = field(default_factory=list)


async def _records_concerned(
    event: PendingEvent, connection: BaseDBAsyncClient
) -> list[tuple[str, str]]:
    """The records whose runs hear of the event: its own; for a calling task or a meeting the
    records it is about (a run that created a task waits for it to be done, a contact's run for
    its meeting to be booked); for a consent change the record whose consent it is."""
    concerned = [(event.aggregate_type, event.aggregate_id)]
    if event.aggregate_type == MESSAGE_PREFERENCE:
        changes = event.payload.get("changes", {})
        if changes.get("record_type") and changes.get("record_id"):
            concerned.append((str(changes["record_type"]), str(changes["record_id"])))
    about = ABOUT_OTHERS.get(event.aggregate_type)
    if about is not None:
        model, record_types = about
        links = [f"{record_type}_id" for record_type in record_types]
        found = (
            await model.filter(agency_id=event.agency_id, id=event.aggregate_id)
            .using_db(connection)
            .values(*links)
        )
        for record_type in record_types:
            value = found[0][f"{record_type}_id"] if found else None
            if value is not None:
                concerned.append((record_type, str(value)))
    return concerned


async def _runs_to_signal(
    event: PendingEvent, route: EventRoute, connection: BaseDBAsyncClient
) -> None:
    if event.type == EMAIL_RECEIVED and event.payload.get("outcome") == FIRST_MESSAGE_OUTCOME:
        return
    for record_type, record_id in await _records_concerned(event, connection):
        own = (record_type, record_id) == (event.aggregate_type, event.aggregate_id)
        runs = await FlowRun.filter(
            agency_id=event.agency_id,
            record_type=record_type,
            record_id=record_id,
            status__in=list(ACTIVE_RUN_STATUSES),
        ).using_db(connection)
        for run in runs:
            if own and event.type.endswith(ENDING_SUFFIXES):
                route.cancels.append(run)
            elif event.type in run.listens_to:
                route.tells.append(run)


async def _flows_to_start(
    event: PendingEvent, route: EventRoute, connection: BaseDBAsyncClient
) -> None:
    versions = await FlowVersion.filter(
        agency_id=event.agency_id, status=FlowVersionStatus.PUBLISHED, trigger_event=event.type
    ).using_db(connection)
    for version in versions:
        if version.trigger_status is not None and event.payload.get("to") != version.trigger_status:
            continue
        definition = FlowDefinition.model_validate(version.document)
        if definition.record_type != event.aggregate_type:
            continue
        if not await _flow_runs_on(
            event.agency_id, definition.key, event.aggregate_type, event.aggregate_id, connection
        ):
            route.starts.append(definition)


async def route_for(event: PendingEvent, connection: BaseDBAsyncClient) -> EventRoute:
    """Read which runs the event tells or cancels and which flows it starts, without writing.

    Read before the event is appended, so the agency's event-order lock (PostgreSQL) is held
    for the writes only. The record's row lock, taken earlier in the same transaction, keeps
    what is read here from changing: runs of a record start and end through its own changes.
    A flow version published while this transaction waits for the lock applies from the next
    event on.
    """
    route = EventRoute()
    await _runs_to_signal(event, route, connection)
    await _flows_to_start(event, route, connection)
    return route


async def write_route(route: EventRoute, event: Event, connection: BaseDBAsyncClient) -> None:
    """Write the route's signals and starts to the outbox, now that the event has its id.

    Signals first, so a run never receives the event that started it.
    """
    record_event = {
        "id": event.id,
        "type": event.type,
        "status": event.payload.get("to"),
        "record_type": event.aggregate_type,
        "record_id": event.aggregate_id,
    }
    if event.aggregate_type == MESSAGE_PREFERENCE:
        opted_out = event.payload.get("changes", {}).get("opted_out_kinds")
        if opted_out is not None:
            # What the record is opted out of now: a run stops when that covers what it sends.
            record_event["opted_out"] = list(opted_out)
    for run in route.cancels:
        await signal_run(run, SIGNAL_CANCEL, connection)
    for run in route.tells:
        await signal_run(run, SIGNAL_RECORD_EVENT, connection, record_event)
    for definition in route.starts:
        await _create_run(
            event.agency_id,
            definition,
            event.aggregate_type,
            event.aggregate_id,
            event.id,
            connection,
        )
