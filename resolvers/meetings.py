"""Meeting resolvers: thin calls into domain.meetings."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from strawberry import relay

from domain import meetings
from domain.lifecycles import allowed_events
from domain.lifecycles.meeting import MeetingLifecycle
from domain.meetings import Meeting, MeetingErrorCode, MeetingOrderField, MeetingSlot
from domain.pagination import Ordering
from resolvers.context import RequestContext, actor_of, loaders_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_node_ids
from resolvers.pagination import connection

TYPE_NAME = "Meeting"
LINKS = {
    "contact_id": "Contact",
    "lead_id": "Lead",
    "deal_id": "Deal",
    "ticket_id": "Ticket",
    "calling_task_id": "CallingTask",
    "owner_id": "User",
}


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, MeetingErrorCode)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    return with_node_ids(data, MeetingErrorCode, LINKS)


async def meeting(context: RequestContext, global_id: relay.GlobalID) -> Meeting | None:
    actor = actor_of(context)
    return await found_or_none(lambda: meetings.get_meeting(actor, _id(global_id)))


async def meetings_page(
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
        ordering = Ordering(MeetingOrderField(order_field), descending)
        return await meetings.list_meetings(actor, first, after, criteria, ordering)

    return connection(await answer(load()))


async def propose_meeting(context: RequestContext, data: Any) -> Outcome[Meeting]:
    actor = actor_of(context)
    return await attempt(
        MeetingErrorCode, lambda: meetings.propose_meeting(actor, _fields(given(data)))
    )


async def hold_meeting(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Meeting]:
    actor = actor_of(context)
    return await attempt(MeetingErrorCode, lambda: meetings.hold_meeting(actor, _id(global_id)))


async def mark_meeting_no_show(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[Meeting]:
    actor = actor_of(context)
    return await attempt(
        MeetingErrorCode, lambda: meetings.mark_meeting_no_show(actor, _id(global_id))
    )


async def cancel_meeting(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Meeting]:
    actor = actor_of(context)
    return await attempt(MeetingErrorCode, lambda: meetings.cancel_meeting(actor, _id(global_id)))


async def reschedule_meeting(
    context: RequestContext, global_id: relay.GlobalID, starts_at: datetime
) -> Outcome[Meeting]:
    actor = actor_of(context)
    return await attempt(
        MeetingErrorCode,
        lambda: meetings.reschedule_meeting(actor, _id(global_id), starts_at),
    )


async def slots(context: RequestContext, record: Meeting) -> list[MeetingSlot]:
    loaded: list[MeetingSlot] = await loaders_of(context).meeting_slots.load(record.id)
    return loaded


def meeting_allowed_events(record: Meeting) -> list[str]:
    return allowed_events(MeetingLifecycle, record.status)
