"""The event stream: every committed change the caller may see, resumable by cursor."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.event_subscriptions import Event as EventRecord
from domain.event_subscriptions import EventStreamErrorCode, event_cursor
from resolvers import events as resolve
from schema.enum_values import error_code_enum
from schema.shared_fields import FILTER, After

error_code_enum(EventStreamErrorCode, "EventStreamErrorCode", "event streams")


@strawberry.type(description="One committed change, as the event log keeps it.")
class Event:
    cursor: str = strawberry.field(description="Resume after this event with `events(after:)`.")
    id: strawberry.ID = strawberry.field(description="The event's id (also `X-CRM-Event-Id`).")
    type: str = strawberry.field(description="What happened, e.g. contact.transitioned.")
    record_type: str = strawberry.field(description="The kind of record, e.g. contact.")
    record_id: str = strawberry.field(description="The global id of the record it is about.")
    node_id: relay.GlobalID | None = strawberry.field(
        description="The record's global id, for record types the schema has as a Node."
    )
    occurred_at: datetime = strawberry.field(description="When it was committed.")
    payload: JSON = strawberry.field(description="The change: a snapshot, or the changed fields.")


@strawberry.input(description="Each list given narrows the stream; all must match.")
class EventFilter:
    record_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Record types, e.g. contact, user."
    )
    record_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Global ids (as in nodeId) or record ids."
    )
    event_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Event types: contact.created, contact.* (all of a record type) or *.",
    )


def _node_types(info: Info) -> frozenset[str]:
    schema = info.schema._schema
    return frozenset(
        name
        for name, graphql_type in schema.type_map.items()
        if "Node" in {i.name for i in getattr(graphql_type, "interfaces", ())}
    )


def event_of(record: EventRecord, node_types: frozenset[str]) -> Event:
    type_name = resolve.graphql_type_of(record.aggregate_type)
    return Event(
        cursor=event_cursor(record.id),
        id=strawberry.ID(str(record.id)),
        type=record.type,
        record_type=record.aggregate_type,
        record_id=record.aggregate_id,
        node_id=relay.GlobalID(type_name, record.aggregate_id) if type_name in node_types else None,
        occurred_at=record.occurred_at,
        payload=record.payload,  # type: ignore[arg-type]
    )


@strawberry.type
class EventSubscription:
    @strawberry.subscription(
        description=(
            "Every committed change of your agency that you may see: first those after the "
            "cursor `after` (from the event log), then live ones as they commit, with no gap "
            "and no duplicate. Without `after`, only changes from now on. A client that falls "
            "too far behind gets SUBSCRIBER_TOO_SLOW with the cursor to resume from."
        )
    )
    async def events(
        self, info: Info, after: After = None, filter: Annotated[EventFilter | None, FILTER] = None
    ) -> AsyncGenerator[Event, None]:
        stream = resolve.events(info.context, after, filter)
        node_types = _node_types(info)

        async def as_events() -> AsyncGenerator[Event, None]:
            async with aclosing(stream):
                async for record in stream:
                    yield event_of(record, node_types)

        return as_events()
