"""Webhook endpoints, managed by admins: register, change, delete, rotate the secret, read the
deliveries and redeliver one.

The signing secret is shown once, when it is created (or rotated): the API never returns it
again, as with API keys. It is stored as given, because signing needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.webhooks import WebhookDelivery as WebhookDelivery
from db.webhooks import WebhookEndpoint as WebhookEndpoint
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.errors import DomainError, input_errors
from domain.event_types import EventTypePattern
from domain.pagination import Ordering, Page, keyset_page
from domain.policies import rows
from domain.record_changes import record_created, record_deleted, record_updated
from domain.roles import Access, Resource
from domain.webhook_deliveries import FINISHED, DeliveryStatus, WebhookConfig
from domain.webhook_signatures import new_webhook_secret
from domain.webhook_targets import TargetRefused, resolve_target

AGGREGATE = "webhook_endpoint"
MAX_ENDPOINTS_PER_AGENCY = 20
NEWEST_FIRST = Ordering("id", descending=True)


class WebhookErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    INVALID_URL = "INVALID_URL"
    TARGET_NOT_ALLOWED = "TARGET_NOT_ALLOWED"
    NOT_FINISHED = "NOT_FINISHED"
    ENDPOINT_INACTIVE = "ENDPOINT_INACTIVE"
    FORBIDDEN = "FORBIDDEN"


_PYDANTIC_CODES: dict[str, StrEnum] = {
    "missing": WebhookErrorCode.REQUIRED,
    "string_too_short": WebhookErrorCode.REQUIRED,
    "too_short": WebhookErrorCode.REQUIRED,
    "string_too_long": WebhookErrorCode.TOO_LONG,
    "too_long": WebhookErrorCode.TOO_MANY,
}


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class EndpointChanges(BaseModel):
    """What an admin sets; on update only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
    event_types: Annotated[list[EventTypePattern], Field(min_length=1, max_length=50)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    active: bool = True


class DeliveryFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint_id: UUID | None = None
    status: DeliveryStatus | None = None


@dataclass(frozen=True, slots=True)
class NewWebhookSecret:
    endpoint: WebhookEndpoint
    secret: str  # shown to the admin this once


def snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The endpoint's fields for audit rows and events: never the secret."""
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "active": endpoint.active,
    }


def _parse(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    try:
        if partial:
            placeholder = {"url": "-", "event_types": ["*"]}
            merged = EndpointChanges.model_validate({**placeholder, **data})
            return merged.model_dump(include=set(data))
        return EndpointChanges.model_validate(data).model_dump()
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, WebhookErrorCode.INVALID) from exc


async def _checked_url(config: WebhookConfig, url: str) -> str:
    try:
        return (await resolve_target(url, config.allow_private_targets)).url
    except TargetRefused as exc:
        code = (
            WebhookErrorCode.INVALID_URL if exc.malformed else WebhookErrorCode.TARGET_NOT_ALLOWED
        )
        raise DomainError(code, exc.message, "url") from exc


def _scoped(actor: Actor, access: Access = Access.READ) -> Any:
    """The agency's endpoints, for admins; FORBIDDEN for everyone else."""
    return WebhookEndpoint.filter(rows(actor, Resource.WEBHOOKS, access, owner_field="id"))


def _not_found(endpoint_id: object) -> DomainError:
    return DomainError(WebhookErrorCode.NOT_FOUND, f"No webhook endpoint {endpoint_id}.", "id")


async def _locked(
    actor: Actor, endpoint_id: UUID, connection: BaseDBAsyncClient
) -> WebhookEndpoint:
    endpoint: WebhookEndpoint | None = (
        await _scoped(actor, Access.WRITE)
        .using_db(connection)
        .select_for_update()
        .get_or_none(id=endpoint_id)
    )
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


async def list_endpoints(actor: Actor) -> list[WebhookEndpoint]:
    endpoints: list[WebhookEndpoint] = await _scoped(actor).order_by("created_at", "id")
    return endpoints


async def get_endpoint(actor: Actor, endpoint_id: UUID) -> WebhookEndpoint:
    endpoint: WebhookEndpoint | None = await _scoped(actor).get_or_none(id=endpoint_id)
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


async def create_endpoint(
    actor: Actor, config: WebhookConfig, data: dict[str, Any]
) -> NewWebhookSecret:
    """A new endpoint and its signing secret, which only this answer shows."""
    fields = _parse(data, partial=False)
    query = _scoped(actor, Access.WRITE)
    fields["url"] = await _checked_url(config, fields["url"])
    fields["event_types"] = _distinct(fields["event_types"])
    if await query.count() >= MAX_ENDPOINTS_PER_AGENCY:
        raise DomainError(
            WebhookErrorCode.TOO_MANY, f"At most {MAX_ENDPOINTS_PER_AGENCY} webhook endpoints."
        )
    secret = new_webhook_secret()
    async with in_transaction() as connection:
        endpoint = await WebhookEndpoint.create(
            agency_id=actor.agency_id, secret=secret, using_db=connection, **fields
        )
        after = snapshot(endpoint)
        await record_created(actor, AGGREGATE, str(endpoint.id), after, connection)
    return NewWebhookSecret(endpoint=endpoint, secret=secret)


async def update_endpoint(
    actor: Actor, config: WebhookConfig, endpoint_id: UUID, data: dict[str, Any]
) -> WebhookEndpoint:
    """Change an endpoint; turning it on again clears its failure count."""
    fields = _parse(data, partial=True)
    _scoped(actor, Access.WRITE)  # FORBIDDEN before any lookup of the target
    if "url" in fields:
        fields["url"] = await _checked_url(config, fields["url"])
    if "event_types" in fields:
        fields["event_types"] = _distinct(fields["event_types"])
    async with in_transaction() as connection:
        endpoint = await _locked(actor, endpoint_id, connection)
        before = snapshot(endpoint)
        if fields.get("active") and not endpoint.active:
            endpoint.consecutive_failures, endpoint.disabled_reason = 0, ""
        endpoint.update_from_dict(fields)
        await endpoint.save(using_db=connection)
        old, new = changed_fields(before, snapshot(endpoint))
        if new:
            await record_updated(actor, AGGREGATE, str(endpoint.id), old, new, connection)
    return endpoint


async def delete_endpoint(actor: Actor, endpoint_id: UUID) -> WebhookEndpoint:
    """Delete an endpoint with its deliveries; running deliveries stop at their next attempt."""
    async with in_transaction() as connection:
        endpoint = await _locked(actor, endpoint_id, connection)
        before = snapshot(endpoint)
        await endpoint.delete(using_db=connection)
        await record_deleted(actor, AGGREGATE, str(endpoint_id), before, connection)
    return endpoint


async def rotate_secret(actor: Actor, endpoint_id: UUID) -> NewWebhookSecret:
    """A new signing secret, effective for every attempt from now on; shown this once."""
    secret = new_webhook_secret()
    async with in_transaction() as connection:
        endpoint = await _locked(actor, endpoint_id, connection)
        endpoint.secret = secret
        await endpoint.save(using_db=connection, update_fields=["secret", "updated_at"])
        await record_audit(actor, AGGREGATE, str(endpoint.id), "rotate_secret", {}, {}, connection)
    return NewWebhookSecret(endpoint=endpoint, secret=secret)


async def list_deliveries(
    actor: Actor, first: int, after: str | None, criteria: dict[str, Any] | None = None
) -> Page[WebhookDelivery]:
    """The agency's deliveries, newest first, optionally of one endpoint or status."""
    query = WebhookDelivery.filter(rows(actor, Resource.WEBHOOKS, Access.READ, owner_field="id"))
    try:
        where = DeliveryFilter.model_validate(criteria or {})
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, WebhookErrorCode.INVALID) from exc
    if where.endpoint_id is not None:
        query = query.filter(endpoint_id=where.endpoint_id)
    if where.status is not None:
        query = query.filter(status=where.status)
    return await keyset_page(query, NEWEST_FIRST, first, after)


async def redeliver(actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a finished delivery's event to its endpoint again, as a new delivery."""
    scoped = WebhookDelivery.filter(rows(actor, Resource.WEBHOOKS, Access.WRITE, owner_field="id"))
    async with in_transaction() as connection:
        original: WebhookDelivery | None = (
            await scoped.using_db(connection)
            .prefetch_related("endpoint")
            .get_or_none(id=delivery_id)
        )
        if original is None:
            raise DomainError(WebhookErrorCode.NOT_FOUND, f"No delivery {delivery_id}.", "id")
        if original.status not in FINISHED:
            raise DomainError(
                WebhookErrorCode.NOT_FINISHED,
                f"Delivery {delivery_id} is still {original.status}; wait for it to finish.",
                "id",
            )
        if not original.endpoint.active:
            raise DomainError(
                WebhookErrorCode.ENDPOINT_INACTIVE,
                "The endpoint is switched off; turn it on first (updateWebhookEndpoint).",
                "id",
            )
        again = await WebhookDelivery.create(
            agency_id=original.agency_id,
            endpoint_id=original.endpoint_id,
            event_id=original.event_id,
            event_type=original.event_type,
            status=DeliveryStatus.PENDING,
            redelivery_of_id=original.id,
            using_db=connection,
        )
        await record_audit(
            actor,
            "webhook_delivery",
            str(again.id),
            "redeliver",
            {},
            {"redelivery_of": str(original.id), "event_id": str(original.event_id)},
            connection,
        )
    return again
