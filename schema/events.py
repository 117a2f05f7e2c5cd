"""The event stream: every committed change the caller may see, resumable by cursor.

A live event reaches every subscriber of its agency at once, and each subscription used to
execute its document on it, and encode the answer, for itself. Subscriptions that receive the
same event row (each has passed its own visibility check, in `domain.event_subscriptions`)
share its GraphQL `Event`, and `SharedEventExecution` executes a document on it once per
document and variables and keeps the answer on it, with its JSON encoded once
(`RenderedData`), for the others. Sharing is exact because an `Event`'s fields are its row's
values: nothing in them depends on who asks (`tests/unit/test_event_rendering.py` keeps it so).
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from collections.abc import AsyncGenerator, Hashable
from contextlib import aclosing
from dataclasses import field
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLSchema
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info

from domain.event_subscriptions import Event as EventRecord
from domain.event_subscriptions import EventStreamErrorCode, event_cursor
from resolvers import events as resolve
from schema.enum_values import error_code_enum
from schema.shared_fields import FILTER, After

error_code_enum(EventStreamErrorCode, "EventStreamErrorCode", "event streams")


# A document's result on an event, with the schema and operation it was executed for.
Rendering = tuple[tuple[object, object], GraphQLExecutionResult]


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
    # Not in the schema: this event's executions, by document and variables, shared by the
    # subscriptions it is delivered to (`SharedEventExecution`).
    renderings: strawberry.Private[dict[Hashable, Rendering]] = field(default_factory=dict)


_compact = json.JSONEncoder(separators=(",", ":")).encode


class RenderedData(dict[str, Any]):
    """An event's `data`, shared by the subscriptions it is sent to: its JSON is encoded
    once, by the first of them (`crm.graphql_ws`), with the separators Strawberry uses."""

    @functools.cached_property
    def json(self) -> str:
        return _compact(self)


class SharedEventExecution(StrawberryGraphQLCoreExecutionContext):
    """Executes a subscription's document on a live `Event` once per document and variables:
    the first subscription to execute it keeps the result on the event, the others with the
    same document (the same parsed object: `ParserCache` gives one per query text) and the
    same variables take it. Every other operation executes as usual."""

    _shared_key: Hashable | None = None

    def execute_operation(self, serially: bool | None = None) -> Any:
        event = self.root_value
        # graphql-core executes each source event of a subscription with `serially=False`.
        if serially is not False or not isinstance(event, Event):
            return super().execute_operation(serially)
        if self._shared_key is None:
            # Everything the execution reads: the schema, the document's operation, the
            # variables, and what the root field's gate (`schema.extensions.guard_root_fields`)
            # reads of the subscriber: signed in or not, staff or portal. The event's fields
            # read nothing of the subscriber.
            actor = getattr(self.context_value, "actor", None)
            self._shared_key = (
                id(self.schema),
                id(self.operation),
                repr(self.variable_values.coerced),
                actor is None,
                actor is not None and actor.is_portal,
            )
        found = event.renderings.get(self._shared_key)
        if found is None or found[0][0] is not self.schema or found[0][1] is not self.operation:
            result = super().execute_operation(serially)
            if self.is_awaitable(result):  # no field of Event awaits; nothing to share then
                return result
            assert isinstance(result, GraphQLExecutionResult)
            data = RenderedData(result.data) if result.data is not None else None
            shared = GraphQLExecutionResult(data, result.errors)
            # Holding the schema and operation keeps their ids, in the key, from naming others.
            held = (self.schema, self.operation)
            found = event.renderings[self._shared_key] = (held, shared)
        shared = found[1]
        # A result of its own for each subscription: Strawberry sets its errors and extensions.
        return GraphQLExecutionResult(shared.data, list(shared.errors) if shared.errors else None)


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


@functools.lru_cache(maxsize=8)
def _node_types_of(schema: GraphQLSchema) -> frozenset[str]:
    return frozenset(
        name
        for name, graphql_type in schema.type_map.items()
        if "Node" in {i.name for i in getattr(graphql_type, "interfaces", ())}
    )


def _node_types(info: Info) -> frozenset[str]:
    return _node_types_of(info.schema._schema)


class SharedEvents:
    """The GraphQL `Event` of each of the last `size` event rows, by row object (not by id: a
    row read again, after an erasure rewrote its payload, is another object and gets its own),
    so that the subscriptions a live row is delivered to share one `Event` and its renderings.
    Bounded: a row delivered after it was dropped gets a new `Event`, and is executed again."""

    def __init__(self, size: int = 1_024) -> None:
        self._size = size
        self._by_row: OrderedDict[int, tuple[EventRecord, frozenset[str], Event]] = OrderedDict()

    def event_of(self, record: EventRecord, node_types: frozenset[str]) -> Event:
        found = self._by_row.get(id(record))
        # The entry holds the row, so no other object can have its id while it is kept.
        if found is not None and found[0] is record and found[1] is node_types:
            self._by_row.move_to_end(id(record))
            return found[2]
        event = event_of(record, node_types)
        self._by_row[id(record)] = (record, node_types, event)
        if len(self._by_row) > self._size:
            self._by_row.popitem(last=False)
        return event


# One per process, like the parser's cache: live rows are shared by every connection.
_shared_events = SharedEvents()


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
                    yield _shared_events.event_of(record, node_types)

        return as_events()
