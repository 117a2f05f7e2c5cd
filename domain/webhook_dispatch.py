"""Which webhook endpoints an event goes to, decided in the event's own transaction.

`domain.events.append_event` reads `endpoints_wanting` and calls `schedule_webhook_deliveries`
for every event, so a delivery row exists if and only if its event does; the webhook relay then
starts one workflow per pending row. This module imports only db models and pure modules:
`domain.events` imports it.
"""

from __future__ import annotations

from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from db.events import Event
from db.webhooks import WebhookDelivery, WebhookEndpoint
from domain.event_types import event_type_matches

PENDING = "pending"


async def endpoints_wanting(
    agency_id: UUID, event_type: str, connection: BaseDBAsyncClient
) -> list[UUID]:
    """The agency's active endpoints that want events of this type.

    Read before the event is appended (see `domain.events.append_event`): an endpoint created
    or switched on while this transaction waits for the agency's event-order lock gets events
    from the next one on.
    """
    endpoints = (
        await WebhookEndpoint.filter(agency_id=agency_id, active=True)
        .using_db(connection)
        .values_list("id", "event_types")
    )
    return [
        endpoint_id for endpoint_id, types in endpoints if event_type_matches(types, event_type)
    ]


async def schedule_webhook_deliveries(
    event: Event, endpoint_ids: list[UUID], connection: BaseDBAsyncClient
) -> None:
    """A pending delivery of the event to each of the endpoints, in one statement."""
    if not endpoint_ids:
        return
    await WebhookDelivery.bulk_create(
        [
            WebhookDelivery(
                agency_id=event.agency_id,
                endpoint_id=endpoint,
                event_id=event.id,
                event_type=event.type,
                status=PENDING,
            )
            for endpoint in endpoint_ids
        ],
        using_db=connection,
    )


async def schedule_many_webhook_deliveries(
    wanted: list[tuple[Event, list[UUID]]], connection: BaseDBAsyncClient
) -> None:
    """`schedule_webhook_deliveries` of many events (each with its endpoints), in one statement."""
    deliveries = [
        WebhookDelivery(
            agency_id=event.agency_id,
            endpoint_id=endpoint,
            event_id=event.id,
            event_type=event.type,
            status=PENDING,
        )
        for event, endpoint_ids in wanted
        for endpoint in endpoint_ids
    ]
    if deliveries:
        await WebhookDelivery.bulk_create(deliveries, using_db=connection)
