"""Domain events: appended to the event log in the same transaction as the change they describe."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from db.event_signals import hold_event_order, signal_committed
from db.events import Event
from domain.actors import Actor
from domain.flow_triggers import PendingEvent, route_for, write_route
from domain.webhook_dispatch import endpoints_wanting, schedule_webhook_deliveries


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
