"""Broadcast resolvers: parse the audience input, call `domain.broadcasts`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import broadcasts
from domain.broadcasts import Broadcast, BroadcastErrorCode, BroadcastRun
from domain.errors import DomainError
from resolvers import contacts, customers
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid

TYPE_NAME = "Broadcast"


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, BroadcastErrorCode)


def _audience(audience: Any) -> tuple[str, dict[str, Any]]:
    """The record type and its filter: one of `contacts` or `customers` (neither: all
    contacts)."""
    chosen = {k: v for k, v in (given(audience) if audience else {}).items() if v is not None}
    if len(chosen) > 1:
        raise DomainError(
            BroadcastErrorCode.INVALID_AUDIENCE, "Choose contacts or customers.", "audience"
        )
    if "customers" in chosen:
        return "customer", customers.filter_criteria(audience.customers) or {}
    return "contact", contacts.filter_criteria(getattr(audience, "contacts", None)) or {}


async def broadcasts_list(context: RequestContext) -> list[Broadcast]:
    return await answer(broadcasts.list_broadcasts(actor_of(context)))


async def broadcast(context: RequestContext, global_id: relay.GlobalID) -> Broadcast | None:
    actor = actor_of(context)
    return await found_or_none(lambda: broadcasts.get_broadcast(actor, _id(global_id)))


async def runs(context: RequestContext, root: Broadcast) -> list[BroadcastRun]:
    return await answer(broadcasts.runs_of(actor_of(context), root.id))


async def create(context: RequestContext, data: Any) -> Outcome[Broadcast]:
    actor = actor_of(context)

    async def created() -> Broadcast:
        fields = given(data)
        fields.pop("audience", None)
        record_type, audience = _audience(data.audience)
        fields.update(record_type=record_type, audience=audience)
        return await broadcasts.create_broadcast(actor, fields)

    return await attempt(BroadcastErrorCode, created)


async def cancel(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Broadcast]:
    actor = actor_of(context)
    return await attempt(
        BroadcastErrorCode, lambda: broadcasts.cancel_broadcast(actor, _id(global_id))
    )
