"""Timeline resolvers: a record's feed from domain.timeline."""

from __future__ import annotations

from uuid import UUID

from strawberry import relay

from domain import timeline
from domain.timeline import TimelineErrorCode, TimelinePage
from resolvers.context import RequestContext, actor_of
from resolvers.errors import answer, found_or_none
from resolvers.inputs import attachable_record


async def timeline_of(
    context: RequestContext, record_type: str, record_id: UUID, first: int, after: str | None
) -> TimelinePage:
    actor = actor_of(context)
    return await answer(timeline.timeline(actor, record_type, record_id, first, after))


async def timeline_of_record(
    context: RequestContext, record: relay.GlobalID, first: int, after: str | None
) -> TimelinePage | None:
    """The root `timeline(recordId)`: null for a record the caller cannot see (as `contact`)."""
    actor = actor_of(context)

    async def load() -> TimelinePage:
        record_type, record_id = attachable_record(record, TimelineErrorCode)
        return await timeline.timeline(actor, record_type, record_id, first, after)

    return await found_or_none(load)
