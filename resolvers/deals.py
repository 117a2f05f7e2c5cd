"""Deal resolvers: thin calls into domain.deals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from strawberry import relay

from domain import deals
from domain.deals import Deal, DealErrorCode, DealOrderField
from domain.lifecycles import allowed_events
from domain.lifecycles.deal import DealLifecycle
from resolvers.context import RequestContext, actor_of
from resolvers.custom_fields import record_ordering
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_node_ids
from resolvers.pagination import connection

TYPE_NAME = "Deal"
LINKS = {
    "contact_id": "Contact",
    "customer_id": "Customer",
    "lead_id": "Lead",
    "pipeline_id": "Pipeline",
    "stage_id": "Stage",
}


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, DealErrorCode)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """Global ids of users, contacts, leads, pipelines and stages as UUIDs for the domain."""
    return with_node_ids(data, DealErrorCode, {"owner_id": "User", **LINKS})


async def deal(context: RequestContext, global_id: relay.GlobalID) -> Deal | None:
    """The deal, or null when it does not exist or is outside the caller's scope."""
    actor = actor_of(context)
    return await found_or_none(lambda: deals.get_deal(actor, _id(global_id)))


async def deals_page(
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
        criteria = None if where is None else _fields(given(where))
        ordering = record_ordering(DealOrderField(order_field), descending, custom_field)
        return await deals.list_deals(actor, first, after, criteria, ordering)

    return connection(await answer(load()))


async def create_deal(context: RequestContext, data: Any) -> Outcome[Deal]:
    actor = actor_of(context)
    return await attempt(DealErrorCode, lambda: deals.create_deal(actor, _fields(given(data))))


async def update_deal(context: RequestContext, data: Any) -> Outcome[Deal]:
    actor = actor_of(context)
    changes = given(data)
    global_id = changes.pop("id")
    return await attempt(
        DealErrorCode, lambda: deals.update_deal(actor, _id(global_id), _fields(changes))
    )


async def delete_deal(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Deal]:
    actor = actor_of(context)
    return await attempt(DealErrorCode, lambda: deals.delete_deal(actor, _id(global_id)))


async def move_deal(context: RequestContext, data: Any) -> Outcome[Deal]:
    actor = actor_of(context)
    command = given(data)
    global_id = command.pop("id")
    return await attempt(
        DealErrorCode, lambda: deals.move_deal(actor, _id(global_id), _fields(command))
    )


def deal_allowed_events(record: Deal) -> list[str]:
    return allowed_events(DealLifecycle, record.status)


def deal_probability(record: Deal) -> int:
    return deals.probability(record)


def deal_weighted_amount(record: Deal) -> Decimal:
    return deals.weighted_amount(record)
