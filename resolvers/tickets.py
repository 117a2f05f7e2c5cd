"""Ticket resolvers: thin calls into domain.tickets."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import tickets
from domain.calling_tasks import CallingTask
from domain.lifecycles import allowed_events
from domain.lifecycles.ticket import TicketLifecycle
from domain.meetings import Meeting
from domain.messages import Message
from domain.tickets import Ticket, TicketErrorCode, TicketOrderField, TicketPortalReply
from resolvers.context import RequestContext, actor_of, loaders_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_node_ids
from resolvers.pagination import connection

TYPE_NAME = "Ticket"
LINKS = {
    "customer_id": "Customer",
    "contact_id": "Contact",
    "assignee_id": "User",
    "team_id": "OrgUnit",
}


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, TicketErrorCode)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    return with_node_ids(data, TicketErrorCode, LINKS)


async def ticket(context: RequestContext, global_id: relay.GlobalID) -> Ticket | None:
    actor = actor_of(context)
    return await found_or_none(lambda: tickets.get_ticket(actor, _id(global_id)))


async def tickets_page(
    context: RequestContext,
    first: int,
    after: str | None,
    where: Any,
    order_field: str,
    descending: bool,
) -> relay.Connection[Any]:
    actor = actor_of(context)

    async def load() -> Any:
        criteria = _fields(given(where)) if where is not None else None
        ordering = tickets.ticket_ordering(TicketOrderField(order_field), descending)
        return await tickets.list_tickets(actor, first, after, criteria, ordering)

    return connection(await answer(load()))


async def create_ticket(context: RequestContext, data: Any) -> Outcome[Ticket]:
    actor = actor_of(context)
    return await attempt(
        TicketErrorCode, lambda: tickets.create_ticket(actor, _fields(given(data)))
    )


async def update_ticket(context: RequestContext, data: Any) -> Outcome[Ticket]:
    actor = actor_of(context)

    async def update() -> Ticket:
        fields = _fields(given(data))
        return await tickets.update_ticket(actor, _id(fields.pop("id")), fields)

    return await attempt(TicketErrorCode, update)


async def transition_ticket(
    context: RequestContext, global_id: relay.GlobalID, event: str, reason: str
) -> Outcome[Ticket]:
    actor = actor_of(context)
    return await attempt(
        TicketErrorCode,
        lambda: tickets.transition_ticket(actor, _id(global_id), event, reason),
    )


async def reply_to_ticket(
    context: RequestContext, global_id: relay.GlobalID, body: str
) -> Outcome[Message]:
    actor = actor_of(context)
    return await attempt(
        TicketErrorCode, lambda: tickets.reply_to_ticket(actor, _id(global_id), body)
    )


async def calling_tasks(context: RequestContext, record: Ticket) -> list[CallingTask]:
    linked: list[CallingTask] = await loaders_of(context).ticket_calling_tasks.load(record.id)
    return linked


async def meetings(context: RequestContext, record: Ticket) -> list[Meeting]:
    linked: list[Meeting] = await loaders_of(context).ticket_meetings.load(record.id)
    return linked


async def portal_replies(context: RequestContext, record: Ticket) -> list[TicketPortalReply]:
    return await answer(tickets.portal_replies_of(actor_of(context), record))


async def replies(context: RequestContext, record: Ticket) -> list[Message]:
    return await answer(tickets.replies_of(actor_of(context), record))


def ticket_allowed_events(record: Ticket) -> list[str]:
    return allowed_events(TicketLifecycle, record.status)
