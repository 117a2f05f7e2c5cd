"""Webhook endpoints and deliveries: types, inputs, payloads, queries and mutations (admins)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.webhook_deliveries import DeliveryStatus
from domain.webhooks import NewWebhookSecret, WebhookErrorCode
from domain.webhooks import WebhookDelivery as WebhookDeliveryRecord
from domain.webhooks import WebhookEndpoint as WebhookEndpointRecord
from resolvers import webhooks as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    FILTER,
    MUTATION_INPUT,
    After,
    First,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)

if TYPE_CHECKING:
    WebhookDeliveryStatusEnum = StrEnum
else:
    WebhookDeliveryStatusEnum = described_enum(
        DeliveryStatus,
        "WebhookDeliveryStatus",
        "Where a webhook delivery is.",
        {
            "PENDING": "Written with its event; not sent yet.",
            "DELIVERING": "Being sent, with retries; `attempts` counts them.",
            "DELIVERED": "The endpoint answered 2xx.",
            "FAILED": "Every attempt failed, or the target was refused.",
            "SKIPPED": "The endpoint was turned off or deleted before it could be sent.",
        },
    )

error_code_enum(WebhookErrorCode, "WebhookErrorCode", "webhooks")


@strawberry.type(description="A URL that receives the agency's events, signed (see README).")
class WebhookEndpoint(relay.Node):
    id: relay.NodeID[str] = node_id()
    url: str = strawberry.field(description="Where deliveries are POSTed.")
    description: str = strawberry.field(description="What it is for.")
    event_types: list[str] = strawberry.field(
        description="Event types sent: contact.created, contact.* or *."
    )
    active: bool = strawberry.field(description="Switched off after repeated failed deliveries.")
    consecutive_failures: int = strawberry.field(
        description="Failed deliveries in a row; enough of them turn it off."
    )
    disabled_reason: str = strawberry.field(
        description="Why it was turned off; empty while active."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, WebhookEndpointRecord))


@strawberry.type(description="One event sent to one endpoint, with its attempts.")
class WebhookDelivery(relay.Node):
    id: relay.NodeID[str] = node_id()
    event_id: strawberry.ID = strawberry.field(description="The event sent (X-CRM-Event-Id).")
    event_type: str = strawberry.field(
        description="The type of the event delivered, e.g. contact.created."
    )
    status: WebhookDeliveryStatusEnum = strawberry.field(description="Where the delivery is.")
    attempts: int = strawberry.field(description="How many times it was POSTed.")
    last_response_code: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null when none answered."
    )
    last_error: str = strawberry.field(
        description="What went wrong in the last attempt, if anything."
    )
    created_at: datetime = created_at()
    finished_at: datetime | None = strawberry.field(
        description="When it succeeded or was given up; null while pending."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, WebhookDeliveryRecord))

    @strawberry.field(description="The WebhookEndpoint id.")
    def endpoint_id(self, root: strawberry.Parent[WebhookDeliveryRecord]) -> relay.GlobalID:
        return relay.GlobalID("WebhookEndpoint", str(root.endpoint_id))

    @strawberry.field(description="The delivery this one repeats, for redeliveries.")
    def redelivery_of(
        self, root: strawberry.Parent[WebhookDeliveryRecord]
    ) -> relay.GlobalID | None:
        if root.redelivery_of_id is None:
            return None
        return relay.GlobalID("WebhookDelivery", str(root.redelivery_of_id))


@strawberry.type(description="A problem with the input; nothing was changed.")
class WebhookError:
    field: str | None = error_field()
    code: WebhookErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class WebhookEndpointPayload:
    webhook_endpoint: WebhookEndpoint | None = payload_record("webhook endpoint")
    errors: list[WebhookError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class WebhookSecretPayload:
    webhook_endpoint: WebhookEndpoint | None = payload_record("webhook endpoint")
    secret: str | None = strawberry.field(
        description="The signing secret, shown this once: keep it with the receiver."
    )
    errors: list[WebhookError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class WebhookDeliveryPayload:
    webhook_delivery: WebhookDelivery | None = payload_record("webhook delivery")
    errors: list[WebhookError] = payload_errors()


@strawberry.input(description="A new webhook endpoint (at most 20 per agency).")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="https (or http) URL on a public address.")
    event_types: list[str] = strawberry.field(
        description="1 to 50 event types or patterns (e.g. contact.*, *)."
    )
    description: str = strawberry.field(default="", description="At most 500 characters.")
    active: bool = strawberry.field(default=True, description="False creates it turned off.")


@strawberry.input(description="Fields left out are unchanged; active: true clears failures.")
class UpdateWebhookEndpointInput:
    id: relay.GlobalID = node_id()
    url: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An http(s) URL, at most 2,000 characters, on a public address.",
    )
    event_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 50 event types or patterns."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 500 characters."
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="True turns it on again (and clears its failure count).",
    )


@strawberry.input(description="The webhook endpoint to act on.")
class WebhookEndpointIdInput:
    id: relay.GlobalID = node_id()


@strawberry.input(description="A finished delivery to send again (as a new delivery).")
class RedeliverWebhookDeliveryInput:
    id: relay.GlobalID = node_id()


@strawberry.input(description="Which deliveries to list.")
class WebhookDeliveryFilter:
    endpoint_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="Only deliveries to this endpoint."
    )
    status: WebhookDeliveryStatusEnum | None = strawberry.field(
        default=strawberry.UNSET, description="Only deliveries in this status."
    )


def _errors(outcome: Outcome[Any]) -> list[WebhookError]:
    return errors_as(WebhookError, outcome.errors)


def _secret_payload(outcome: Outcome[NewWebhookSecret]) -> WebhookSecretPayload:
    created = outcome.value
    return WebhookSecretPayload(
        webhook_endpoint=created.endpoint if created else None,  # type: ignore[arg-type]
        secret=created.secret if created else None,
        errors=_errors(outcome),
    )


def _endpoint_payload(outcome: Outcome[WebhookEndpointRecord]) -> WebhookEndpointPayload:
    return WebhookEndpointPayload(
        webhook_endpoint=outcome.value,  # type: ignore[arg-type]
        errors=_errors(outcome),
    )


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="The agency's webhook endpoints (admins).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return await resolve.list_endpoints(info.context)  # type: ignore[return-value]

    @strawberry.field(description=f"Webhook deliveries, newest first; at most {MAX_PAGE_SIZE}.")
    async def webhook_deliveries(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[WebhookDeliveryFilter | None, FILTER] = None,
    ) -> relay.Connection[WebhookDelivery]:
        return await resolve.deliveries_page(info.context, first, after, filter)


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Register an endpoint; the payload shows its secret once.")
    async def create_webhook_endpoint(
        self, info: Info, input: Annotated[CreateWebhookEndpointInput, MUTATION_INPUT]
    ) -> WebhookSecretPayload:
        return _secret_payload(await resolve.create_endpoint(info.context, input))

    @strawberry.mutation(
        description="Admins: change a webhook endpoint's URL, event types or active flag. "
        "Errors: NOT_FOUND, INVALID, INVALID_URL, TARGET_NOT_ALLOWED, FORBIDDEN."
    )
    async def update_webhook_endpoint(
        self, info: Info, input: Annotated[UpdateWebhookEndpointInput, MUTATION_INPUT]
    ) -> WebhookEndpointPayload:
        return _endpoint_payload(await resolve.update_endpoint(info.context, input))

    @strawberry.mutation(description="Delete an endpoint and its deliveries.")
    async def delete_webhook_endpoint(
        self, info: Info, input: Annotated[WebhookEndpointIdInput, MUTATION_INPUT]
    ) -> WebhookEndpointPayload:
        return _endpoint_payload(await resolve.delete_endpoint(info.context, input.id))

    @strawberry.mutation(description="A new signing secret, shown once; the old one stops now.")
    async def rotate_webhook_secret(
        self, info: Info, input: Annotated[WebhookEndpointIdInput, MUTATION_INPUT]
    ) -> WebhookSecretPayload:
        return _secret_payload(await resolve.rotate_secret(info.context, input.id))

    @strawberry.mutation(description="Send a finished delivery's event again, as a new delivery.")
    async def redeliver_webhook_delivery(
        self, info: Info, input: Annotated[RedeliverWebhookDeliveryInput, MUTATION_INPUT]
    ) -> WebhookDeliveryPayload:
        outcome = await resolve.redeliver(info.context, input.id)
        return WebhookDeliveryPayload(
            webhook_delivery=outcome.value,  # type: ignore[arg-type]
            errors=_errors(outcome),
        )
