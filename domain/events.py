"""Domain events: appended to the event log in the same transaction as the change they describe."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from db.events import Event
from domain.actors import Actor


async def append_event(
    actor: Actor,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str,
    payload: dict[str, Any],
    connection: BaseDBAsyncClient,
) -> Event:
    """Append one event; its id is the cursor subscribers and the outbox relay resume from."""
    return await Event.create(
        agency_id=actor.agency_id,
        type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=payload,
        using_db=connection,
    )
