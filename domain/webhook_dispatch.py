"""Which webhook endpoints an event goes to, decided in the event's own transaction.

`domain.events.append_event` calls `schedule_webhook_deliveries` for every event, so a
delivery row exists if and only if its event does; the webhook relay then starts one workflow
per pending row. This module imports only db models and pure modules: `domain.events` imports it.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from db.events import Event
from db.webhooks import WebhookDelivery, WebhookEndpoint
from domain.event_types import event_type_matches

PENDING = "pending"


async def schedule_webhook_deliveries(
    event: Event, connection: BaseDBAsyncClient
) -> list[WebhookDelivery]:
    """A pending delivery of the event to each active endpoint of its agency that wants it."""
    endpoints = (
        await WebhookEndpoint.filter(agency_id=event.agency_id, active=True)
        .using_db(connection)
        .values_list("id", "event_types")
    )
    wanted = [
        endpoint_id for endpoint_id, types in endpoints if event_type_matches(types, event.type)
    ]
    return [
        await WebhookDelivery.create(
            agency_id=event.agency_id,
            endpoint_id=endpoint,
            event_id=event.id,
            event_type=event.type,
            status=PENDING,
            using_db=connection,
        )
        for endpoint in wanted
    ]
