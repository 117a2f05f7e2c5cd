"""Webhook resolvers (admins only; the domain checks): thin calls into domain.webhooks."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import webhooks
from domain.errors import DomainError
from domain.webhooks import NewWebhookSecret, WebhookDelivery, WebhookEndpoint, WebhookErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given, node_uuid
from resolvers.pagination import connection

ENDPOINT_TYPE = "WebhookEndpoint"
DELIVERY_TYPE = "WebhookDelivery"


def _endpoint_id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, ENDPOINT_TYPE, WebhookErrorCode)


def _delivery_id(global_id: relay.GlobalID) -> int:
    if global_id.type_name == DELIVERY_TYPE and global_id.node_id.isdigit():
        return int(global_id.node_id)
    raise DomainError(WebhookErrorCode.NOT_FOUND, f"No delivery with id {global_id}.", "id")


async def list_endpoints(context: RequestContext) -> list[WebhookEndpoint]:
    return await answer(webhooks.list_endpoints(actor_of(context)))


async def deliveries_page(
    context: RequestContext, first: int, after: str | None, where: Any
) -> relay.Connection[Any]:
    actor = actor_of(context)

    async def load() -> Any:
        criteria = given(where) if where is not None else {}
        if criteria.get("endpoint_id") is not None:
            criteria["endpoint_id"] = _endpoint_id(criteria["endpoint_id"])
        return await webhooks.list_deliveries(actor, first, after, criteria)

    return connection(await answer(load()))


async def create_endpoint(context: RequestContext, data: Any) -> Outcome[NewWebhookSecret]:
    actor = actor_of(context)
    return await attempt(
        WebhookErrorCode, lambda: webhooks.create_endpoint(actor, context.webhooks, given(data))
    )


async def update_endpoint(context: RequestContext, data: Any) -> Outcome[WebhookEndpoint]:
    actor = actor_of(context)
    changes = given(data)
    global_id = changes.pop("id")

    async def update() -> WebhookEndpoint:
        endpoint_id = _endpoint_id(global_id)
        return await webhooks.update_endpoint(actor, context.webhooks, endpoint_id, changes)

    return await attempt(WebhookErrorCode, update)


async def delete_endpoint(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[WebhookEndpoint]:
    actor = actor_of(context)
    return await attempt(
        WebhookErrorCode, lambda: webhooks.delete_endpoint(actor, _endpoint_id(global_id))
    )


async def rotate_secret(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[NewWebhookSecret]:
    actor = actor_of(context)
    return await attempt(
        WebhookErrorCode, lambda: webhooks.rotate_secret(actor, _endpoint_id(global_id))
    )


async def redeliver(context: RequestContext, global_id: relay.GlobalID) -> Outcome[WebhookDelivery]:
    actor = actor_of(context)
    return await attempt(
        WebhookErrorCode, lambda: webhooks.redeliver(actor, _delivery_id(global_id))
    )
