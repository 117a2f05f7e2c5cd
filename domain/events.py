"""Domain events: appended to the event log in the same transaction as the change they describe."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Max

from db.event_signals import hold_event_order, signal_committed
from db.events import Event
from domain.actors import Actor
from domain.flow_triggers import PendingEvent, route_for, routes_for, write_route, write_routes
from domain.webhook_dispatch import (
    endpoints_wanting,
    schedule_many_webhook_deliveries,
    schedule_webhook_deliveries,
)


async def append_event(
    actor: Actor,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str,
    payload: dict[str, Any],
    connection: BaseDBAsyncClient,
) -> Event:
    """Append one event; its id is the cursor subscribers and the outbox relay resume from.

    Every committed change passes through here with its transaction's connection, so this is
    where flows are started and waiting runs are told (through the outbox, atomically).
    Webhook deliveries are written here too, and subscribers in every API process are told
    once it commits. Append events after the transaction's row locks: on PostgreSQL the
    agency's events are ordered by a lock held until commit (see `db.event_signals`), so
    everything that only reads (which runs and webhooks the event reaches) is read before it,
    and only writes follow it. Append as the transaction's last work, for the same reason.
    """
    pending = PendingEvent(actor.agency_id, event_type, aggregate_type, aggregate_id, payload)
    route = await route_for(pending, connection)
    endpoints = await endpoints_wanting(actor.agency_id, event_type, connection)
    await hold_event_order(actor.agency_id, connection)
    event = await Event.create(
        agency_id=actor.agency_id,
        type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload,
        using_db=connection,
    )
    await write_route(route, event, connection)
    await schedule_webhook_deliveries(event, endpoints, connection)
    await signal_committed(event.agency_id, event.id, connection)
    return event


# (type, aggregate type, aggregate id, payload) of one event in `append_events`
NewEvent = tuple[str, str, str, dict[str, Any]]
READ_BACK_CHUNK = 5_000


async def append_events(
    actor: Actor,
    events: Sequence[NewEvent],
    connection: BaseDBAsyncClient,
    start_flows: bool = True,
) -> list[Event]:
    """`append_event` of many events at once (an import's batch), in a bounded number of
    statements: the routes read together, the events inserted in one statement, then the new
    runs, the outbox messages and the webhook deliveries in one each.

    At most one event per (type, aggregate) in one call: the ids are read back by it, which
    is safe because the agency's event-order lock (PostgreSQL; SQLite has one writer) keeps
    every other append of the agency out until this transaction ends. `start_flows=False`
    appends the events without starting the flows they trigger (they still reach the runs
    already waiting on their records).
    """
    if not events:
        return []
    pending = [
        PendingEvent(actor.agency_id, kind, aggregate_type, aggregate_id, payload)
        for kind, aggregate_type, aggregate_id, payload in events
    ]
    named = {(p.type, p.aggregate_type, p.aggregate_id) for p in pending}
    if len(named) != len(pending):
        raise ValueError("append_events takes one event per type and aggregate")
    routes = await routes_for(pending, connection, start_flows)
    endpoints = {
        kind: await endpoints_wanting(actor.agency_id, kind, connection)
        for kind in sorted({p.type for p in pending})
    }
    await hold_event_order(actor.agency_id, connection)
    rows = [
        Event(
            agency_id=actor.agency_id,
            type=p.type,
            aggregate_type=p.aggregate_type,
            aggregate_id=p.aggregate_id,
            payload=p.payload,
        )
        for p in pending
    ]
    await Event.bulk_create(rows, using_db=connection)
    ids = await _appended_ids(actor, rows, connection)
    for row in rows:
        row.id = ids[(row.type, row.aggregate_type, row.aggregate_id)]
    await write_routes(routes, rows, connection)
    await schedule_many_webhook_deliveries([(row, endpoints[row.type]) for row in rows], connection)
    await signal_committed(actor.agency_id, max(ids.values()), connection)
    return rows


async def _appended_ids(
    actor: Actor, rows: list[Event], connection: BaseDBAsyncClient
) -> dict[tuple[str, str, str], int]:
    """The ids `bulk_create` gave the rows: each (type, aggregate)'s newest event."""
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        grouped[(row.type, row.aggregate_type)].append(row.aggregate_id)
    ids: dict[tuple[str, str, str], int] = {}
    for (kind, aggregate_type), aggregate_ids in grouped.items():
        for start in range(0, len(aggregate_ids), READ_BACK_CHUNK):
            found = (
                await Event.filter(
                    agency_id=actor.agency_id,
                    type=kind,
                    aggregate_type=aggregate_type,
                    aggregate_id__in=aggregate_ids[start : start + READ_BACK_CHUNK],
                )
                .using_db(connection)
                .annotate(newest=Max("id"))
                .group_by("aggregate_id")
                .values_list("aggregate_id", "newest")
            )
            for aggregate_id, newest in found:
                ids[(kind, aggregate_type, str(aggregate_id))] = int(newest)
    return ids
