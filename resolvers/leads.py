"""Lead resolvers: thin calls into domain.leads."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import leads
from domain.deals import Deal
from domain.leads import Lead, LeadErrorCode, LeadOrderField
from domain.lifecycles import allowed_events
from domain.lifecycles.lead import LeadLifecycle
from resolvers.context import RequestContext, actor_of
from resolvers.custom_fields import record_ordering
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_node_ids
from resolvers.pagination import connection

TYPE_NAME = "Lead"
LINKS = {
    "contact_id": "Contact",
    "customer_id": "Customer",
    "pipeline_id": "Pipeline",
    "stage_id": "Stage",
}


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, LeadErrorCode)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """Global ids of users, contacts, pipelines and stages as the UUIDs the domain takes."""
    return with_node_ids(data, LeadErrorCode, {"owner_id": "User", **LINKS})


async def lead(context: RequestContext, global_id: relay.GlobalID) -> Lead | None:
    """The lead, or null when it does not exist or is outside the caller's scope."""
    actor = actor_of(context)
    return await found_or_none(lambda: leads.get_lead(actor, _id(global_id)))


async def leads_page(
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
        ordering = record_ordering(LeadOrderField(order_field), descending, custom_field)
        return await leads.list_leads(actor, first, after, criteria, ordering)

    return connection(await answer(load()))


async def create_lead(context: RequestContext, data: Any) -> Outcome[Lead]:
    actor = actor_of(context)
    return await attempt(LeadErrorCode, lambda: leads.create_lead(actor, _fields(given(data))))


async def update_lead(context: RequestContext, data: Any) -> Outcome[Lead]:
    actor = actor_of(context)
    changes = given(data)
    global_id = changes.pop("id")
    return await attempt(
        LeadErrorCode, lambda: leads.update_lead(actor, _id(global_id), _fields(changes))
    )


async def delete_lead(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Lead]:
    actor = actor_of(context)
    return await attempt(LeadErrorCode, lambda: leads.delete_lead(actor, _id(global_id)))


async def transition_lead(
    context: RequestContext, global_id: relay.GlobalID, event: str
) -> Outcome[Lead]:
    actor = actor_of(context)
    return await attempt(LeadErrorCode, lambda: leads.transition_lead(actor, _id(global_id), event))


async def convert_lead(context: RequestContext, data: Any) -> Outcome[tuple[Lead, Deal]]:
    actor = actor_of(context)
    options = given(data)
    global_id = options.pop("id")
    return await attempt(
        LeadErrorCode, lambda: leads.convert_lead(actor, _id(global_id), _fields(options))
    )


def lead_allowed_events(record: Lead) -> list[str]:
    return allowed_events(LeadLifecycle, record.status)
