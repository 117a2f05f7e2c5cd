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

from collections import defaultdict
from collections.abc import Sequence
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
from domain.outbox import OutboxKind, enqueue, enqueue_many

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
    run = _new_run(agency_id, definition, record_type, record_id, trigger_event_id)
    await run.save(using_db=connection)
    payload = start_payload(agency_id, definition, record_type, record_id)
    await enqueue(agency_id, OutboxKind.START_FLOW, run.workflow_id, payload, connection)
    return run


def _new_run(
    agency_id: UUID,
    definition: FlowDefinition,
    record_type: str,
    record_id: str,
    trigger_event_id: int,
) -> FlowRun:
    return FlowRun(
        agency_id=agency_id,
        workflow_id=workflow_id_for(definition.key, record_type, record_id, trigger_event_id),
        flow_key=definition.key,
        version=definition.version,
        record_type=record_type,
        record_id=record_id,
        trigger_event_id=trigger_event_id,
        status=FlowRunStatus.PENDING,
        listens_to=definition.listens_to(),
    )


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
    kind, workflow_id, payload = _signal(run, signal, argument)
    await enqueue(run.agency_id, kind, workflow_id, payload, connection)


def _signal(
    run: FlowRun, signal: str, argument: Any = None
) -> tuple[OutboxKind, str, dict[str, Any]]:
    payload: dict[str, Any] = {"signal": signal}
    if argument is not None:
        payload["argument"] = argument
    return OutboxKind.SIGNAL_FLOW, run.workflow_id, payload


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


async def routes_for(
    events: Sequence[PendingEvent], connection: BaseDBAsyncClient, start_flows: bool = True
) -> list[EventRoute]:
    """Read which runs each event tells or cancels and which flows it starts, without writing.

    Read before the events are appended, so the agency's event-order lock (PostgreSQL) is held
    for the writes only. The records' row locks, taken earlier in the same transaction, keep
    what is read here from changing: runs of a record start and end through its own changes.
    A flow version published while this transaction waits for the lock applies from the next
    event on. Many events (an import's batch) cost one read of the active runs of every record
    concerned and one of the flows their types start; a flow starts at most once per record,
    earlier events of the batch included. `start_flows=False` reads no flow to start (an
    import told not to enrol its records).
    """
    if not events:
        return []
    agency_id = events[0].agency_id
    concerned = [await _records_concerned(event, connection) for event in events]
    active = await _active_runs(
        {pair for pairs in concerned for pair in pairs}, agency_id, connection
    )
    versions: dict[str, list[FlowVersion]] = defaultdict(list)
    if start_flows:
        for version in await FlowVersion.filter(
            agency_id=agency_id,
            status=FlowVersionStatus.PUBLISHED,
            trigger_event__in=sorted({event.type for event in events}),
        ).using_db(connection):
            versions[str(version.trigger_event)].append(version)
    started: set[tuple[str, str, str]] = set()
    routes = []
    for event, about in zip(events, concerned, strict=True):
        route = EventRoute()
        _runs_to_signal(event, about, active, route)
        for version in versions.get(event.type, ()):
            if (
                version.trigger_status is not None
                and event.payload.get("to") != version.trigger_status
            ):
                continue
            definition = FlowDefinition.model_validate(version.document)
            if definition.record_type != event.aggregate_type:
                continue
            runs = active.get((event.aggregate_type, event.aggregate_id), ())
            start = (definition.key, event.aggregate_type, event.aggregate_id)
            if start not in started and all(run.flow_key != definition.key for run in runs):
                started.add(start)
                route.starts.append(definition)
        routes.append(route)
    return routes


async def route_for(event: PendingEvent, connection: BaseDBAsyncClient) -> EventRoute:
    """`routes_for` of one event."""
    (route,) = await routes_for([event], connection)
    return route


async def _active_runs(
    records: set[tuple[str, str]], agency_id: UUID, connection: BaseDBAsyncClient
) -> dict[tuple[str, str], list[FlowRun]]:
    """The active runs of each record (record type, id), in one query per 5,000 ids."""
    found: dict[tuple[str, str], list[FlowRun]] = defaultdict(list)
    ids = sorted({record_id for _, record_id in records})
    for start in range(0, len(ids), 5_000):
        for run in await FlowRun.filter(
            agency_id=agency_id,
            record_id__in=ids[start : start + 5_000],
            status__in=list(ACTIVE_RUN_STATUSES),
        ).using_db(connection):
            if (run.record_type, run.record_id) in records:
                found[(run.record_type, run.record_id)].append(run)
    return found


def _runs_to_signal(
    event: PendingEvent,
    concerned: list[tuple[str, str]],
    active: dict[tuple[str, str], list[FlowRun]],
    route: EventRoute,
) -> None:
    if event.type == EMAIL_RECEIVED and event.payload.get("outcome") == FIRST_MESSAGE_OUTCOME:
        return
    for record_type, record_id in concerned:
        own = (record_type, record_id) == (event.aggregate_type, event.aggregate_id)
        for run in active.get((record_type, record_id), ()):
            if own and event.type.endswith(ENDING_SUFFIXES):
                route.cancels.append(run)
            elif event.type in run.listens_to:
                route.tells.append(run)


def _record_event(event: Event) -> dict[str, Any]:
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
    return record_event


async def write_routes(
    routes: Sequence[EventRoute], events: Sequence[Event], connection: BaseDBAsyncClient
) -> None:
    """Write the routes' signals and starts to the outbox, now that the events have ids: the
    new runs in one statement, the messages in another, in the events' order.

    Each event's signals come before its starts, so a run never receives the event that
    started it.
    """
    messages: list[tuple[OutboxKind, str, dict[str, Any]]] = []
    runs: list[FlowRun] = []
    for route, event in zip(routes, events, strict=True):
        messages.extend(_signal(run, SIGNAL_CANCEL) for run in route.cancels)
        told = _record_event(event)
        messages.extend(_signal(run, SIGNAL_RECORD_EVENT, told) for run in route.tells)
        for definition in route.starts:
            run = _new_run(
                event.agency_id, definition, event.aggregate_type, event.aggregate_id, event.id
            )
            runs.append(run)
            payload = start_payload(
                event.agency_id, definition, event.aggregate_type, event.aggregate_id
            )
            messages.append((OutboxKind.START_FLOW, run.workflow_id, payload))
    if runs:
        await FlowRun.bulk_create(runs, using_db=connection)
    if events:
        await enqueue_many(events[0].agency_id, messages, connection)


async def write_route(route: EventRoute, event: Event, connection: BaseDBAsyncClient) -> None:
    """`write_routes` of one event."""
    await write_routes([route], [event], connection)
