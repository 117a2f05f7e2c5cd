"""Calling task resolvers: thin calls into domain.calling_tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from strawberry import relay

from domain import calling_tasks
from domain.calling_tasks import CallingTask, CallingTaskErrorCode, CallingTaskOrderField
from domain.lifecycles import allowed_events
from domain.lifecycles.calling_task import CallingTaskLifecycle
from resolvers.context import RequestContext, actor_of
from resolvers.custom_fields import record_ordering
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_node_ids
from resolvers.pagination import connection

TYPE_NAME = "CallingTask"
LINKS = {
    "contact_id": "Contact",
    "customer_id": "Customer",
    "lead_id": "Lead",
    "deal_id": "Deal",
    "ticket_id": "Ticket",
}


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, CallingTaskErrorCode)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    return with_node_ids(data, CallingTaskErrorCode, {"assignee_id": "User", **LINKS})


async def calling_task(context: RequestContext, global_id: relay.GlobalID) -> CallingTask | None:
    actor = actor_of(context)
    return await found_or_none(lambda: calling_tasks.get_calling_task(actor, _id(global_id)))


async def calling_tasks_page(
    context: RequestContext,
    first: int,
    after: str | None,
    where: Any,
    order_field: str,
    descending: bool,
    custom_field: str | None = None,
) -> relay.Connection[Any]:
    actor = actor_of(context)

    async def load() -> Any:
        criteria = _fields(given(where)) if where is not None else None
        ordering = record_ordering(CallingTaskOrderField(order_field), descending, custom_field)
        return await calling_tasks.list_calling_tasks(actor, first, after, criteria, ordering)

    return connection(await answer(load()))


async def create_calling_task(context: RequestContext, data: Any) -> Outcome[CallingTask]:
    actor = actor_of(context)
    return await attempt(
        CallingTaskErrorCode,
        lambda: calling_tasks.create_calling_task(actor, _fields(given(data))),
    )


async def update_calling_task(context: RequestContext, data: Any) -> Outcome[CallingTask]:
    actor = actor_of(context)
    changes = given(data)
    global_id = changes.pop("id")
    return await attempt(
        CallingTaskErrorCode,
        lambda: calling_tasks.update_calling_task(actor, _id(global_id), _fields(changes)),
    )


async def delete_calling_task(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[CallingTask]:
    actor = actor_of(context)
    return await attempt(
        CallingTaskErrorCode, lambda: calling_tasks.delete_calling_task(actor, _id(global_id))
    )


async def transition_calling_task(
    context: RequestContext,
    global_id: relay.GlobalID,
    event: str,
    due_at: datetime | None,
    outcome_notes: str | None,
) -> Outcome[CallingTask]:
    actor = actor_of(context)
    return await attempt(
        CallingTaskErrorCode,
        lambda: calling_tasks.transition_calling_task(
            actor, _id(global_id), event, due_at, outcome_notes
        ),
    )


def calling_task_allowed_events(record: CallingTask) -> list[str]:
    return allowed_events(CallingTaskLifecycle, record.status)
