"""Event subscription resolvers: check the request, then stream the domain's events."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from graphql import GraphQLError
from strawberry import relay

from domain.errors import DomainError, DomainErrors
from domain.event_subscriptions import Event, EventStreamPlan, follow_events, plan_event_stream
from domain.event_visibility import RECORD_TYPES
from resolvers.context import RequestContext, actor_of
from resolvers.errors import input_path
from resolvers.inputs import given


def record_type_of(type_name: str) -> str:
    """`CallingTask` -> `calling_task`: the record type behind a GraphQL type name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type_name).lower()


def graphql_type_of(record_type: str) -> str:
    """`calling_task` -> `CallingTask`."""
    return "".join(part.title() for part in record_type.split("_"))


def _record_id(value: str) -> str:
    """A record id from a global id of a registered record type, or the value as given."""
    try:
        global_id = relay.GlobalID.from_id(value)
    except ValueError:
        return value
    return global_id.node_id if record_type_of(global_id.type_name) in RECORD_TYPES else value


def _error(exc: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": str(exc.code), **exc.details}
    if exc.field:
        extensions["field"] = input_path(exc.field)
    return GraphQLError(exc.message, extensions=extensions)


def _plan(context: RequestContext, after: str | None, where: Any) -> EventStreamPlan:
    criteria = given(where) if where is not None else None
    if criteria and criteria.get("record_ids"):
        criteria["record_ids"] = [_record_id(str(v)) for v in criteria["record_ids"]]
    reauth = context.live_events.config.reauth_seconds if context.live_events else 30.0
    try:
        return plan_event_stream(actor_of(context), after, criteria, reauth)
    except DomainError as exc:
        raise _error(exc) from exc
    except DomainErrors as exc:
        raise _error(exc.errors[0]) from exc


async def _stream(plan: EventStreamPlan, context: RequestContext) -> AsyncGenerator[Event, None]:
    assert context.live_events is not None
    try:
        async with aclosing(follow_events(plan, context.live_events)) as stream:
            async for event in stream:
                yield event
    except DomainError as exc:
        raise _error(exc) from exc


def events(context: RequestContext, after: str | None, where: Any) -> AsyncGenerator[Event, None]:
    """The caller's events, or a GraphQL error (raised before the stream starts) saying why not."""
    plan = _plan(context, after, where)
    if context.live_events is None:
        raise GraphQLError("This process does not serve subscriptions.")
    return _stream(plan, context)
