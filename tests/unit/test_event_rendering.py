"""A live event executed once per document and variables, and encoded once, for all the
subscriptions it is delivered to (`schema.events`, `crm.graphql_ws`): what is shared is only
what would have come out the same for each of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import strawberry
from graphql import ExecutionResult, parse

from crm.graphql_ws import encode_message
from db.events import Event as EventRow
from domain.actors import Actor
from schema import schema
from schema.events import Event, RenderedData, SharedEventExecution, SharedEvents

FOLLOW = parse(
    "subscription Follow($filter: EventFilter) { events(filter: $filter) { id type payload } }"
)
SIGNED_IN = SimpleNamespace(actor=Actor.system(uuid4(), "test"), auth_problem=None)


def an_event() -> Event:
    return Event(
        cursor="c",
        id=strawberry.ID("7"),
        type="contact.created",
        record_type="contact",
        record_id="x",
        node_id=None,
        occurred_at=datetime(2026, 12, 8, tzinfo=UTC),
        payload={"first_name": "Ada"},  # type: ignore[arg-type]
    )


def execute(event: Event, context: Any = SIGNED_IN, variables: Any = None) -> ExecutionResult:
    """One subscription's execution of FOLLOW on the event, as graphql-core runs it."""
    executor = SharedEventExecution.build(
        schema._schema, FOLLOW, context_value=context, raw_variable_values=variables
    )
    assert not isinstance(executor, list), executor
    result = executor.build_per_event_executor(event).execute_operation(False)
    assert isinstance(result, ExecutionResult)
    return result


def test_subscriptions_with_the_same_document_share_one_execution_of_an_event() -> None:
    event = an_event()
    first, second = execute(event), execute(event)
    assert first.data == {
        "events": {"id": "7", "type": "contact.created", "payload": {"first_name": "Ada"}}
    }
    assert isinstance(first.data, RenderedData)
    assert second.data is first.data
    assert second is not first  # each gets a result of its own for its errors and extensions


def test_other_variables_or_another_event_are_executed_apart() -> None:
    event = an_event()
    plain = execute(event)
    filtered = execute(event, variables={"filter": {"recordTypes": ["contact"]}})
    assert filtered.data == plain.data
    assert filtered.data is not plain.data
    assert execute(an_event()).data is not plain.data


def test_a_signed_out_subscriber_never_takes_a_signed_in_ones_result() -> None:
    event = an_event()
    assert execute(event).errors is None
    refused = execute(event, SimpleNamespace(actor=None, auth_problem=None))
    assert refused.data is None
    assert refused.errors


def test_no_field_of_an_event_depends_on_who_asks() -> None:
    """Sharing is exact only while every field is the row's value: a field with a resolver
    (which could read the viewer) needs the sharing key in `SharedEventExecution` to grow."""
    definition = Event.__strawberry_definition__  # type: ignore[attr-defined]
    with_resolvers = [f.name for f in definition.fields if f.base_resolver is not None]
    assert with_resolvers == []


def test_a_row_read_again_gets_an_event_of_its_own() -> None:
    """An erasure rewrites a row's payload: a row read after it must not get the older row's
    `Event` (and its renderings) because the two share an id."""
    shared = SharedEvents()
    node_types: frozenset[str] = frozenset()
    agency = uuid4()
    row = EventRow(
        id=7,
        agency_id=agency,
        type="contact.created",
        aggregate_type="contact",
        aggregate_id="x",
        payload={"first_name": "Ada"},
        occurred_at=datetime.now(UTC),
    )
    again = EventRow(
        id=7,
        agency_id=agency,
        type="contact.created",
        aggregate_type="contact",
        aggregate_id="x",
        payload={},
        occurred_at=datetime.now(UTC),
    )
    assert shared.event_of(row, node_types) is shared.event_of(row, node_types)
    assert shared.event_of(again, node_types) is not shared.event_of(row, node_types)
    assert shared.event_of(again, node_types).payload == {}  # type: ignore[comparison-overlap]


def test_a_next_message_with_shared_data_is_encoded_as_strawberry_encodes_it() -> None:
    data = RenderedData({"events": {"id": "7", "payload": {"name": 'Zoë "quoted"'}}})
    message = {
        "id": "op-1",
        "type": "next",
        "payload": {"data": data, "extensions": {"cost": {"requested": 1, "budget": 50000}}},
    }
    strawberry_encoding = json.dumps(message, separators=(",", ":"))
    assert encode_message(message) == strawberry_encoding
    assert encode_message(message) == strawberry_encoding  # the data's JSON, now reused
    assert encode_message({"type": "ping"}) == '{"type":"ping"}'
