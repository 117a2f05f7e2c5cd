"""Delivering one event to one webhook endpoint, for the DeliverWebhook workflow's activities.

Each attempt re-checks the endpoint and its target, signs the body with a fresh timestamp,
POSTs it without following redirects, and records the outcome on the delivery. When Temporal
has used up the retries the workflow records the failure, and an endpoint whose deliveries keep
failing is switched off, with an event and a notification for every admin of the agency.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx
from opentelemetry.trace import SpanKind
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from db.events import Event
from db.users import User
from db.webhooks import WebhookDelivery, WebhookEndpoint
from domain import tracing
from domain.actors import Actor
from domain.audit import record_audit
from domain.event_subscriptions import event_cursor
from domain.events import append_event
from domain.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_DELIVERIES_FAILED
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user
from domain.roles import Role
from domain.webhook_signatures import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from domain.webhook_targets import TargetRefused, resolve_target

MAX_ERROR_LENGTH = 2_000
USER_AGENT = "crm-webhooks/1"
ENDPOINT_AGGREGATE = "webhook_endpoint"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # written with the event; the relay has not started its workflow
    DELIVERING = "delivering"  # its workflow runs: attempts so far are counted
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed, or the target was refused
    SKIPPED = "skipped"  # the endpoint was switched off or deleted before it could be sent


FINISHED = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED})


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """The webhook knobs of `crm.settings.Settings`."""

    allow_private_targets: bool = False
    timeout_seconds: float = 10.0
    max_attempts: int = 8
    first_retry_seconds: float = 10.0
    longest_retry_seconds: float = 3_600.0
    disable_after_failures: int = 5


class DeliveryAbandoned(Exception):
    """Retrying cannot help: the delivery or its endpoint is gone or off, or the target refused."""


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    delivered: bool
    status_code: int | None
    error: str


def webhook_body(event: Event) -> bytes:
    """The JSON an endpoint receives: the same fields as the `events` subscription."""
    document: dict[str, Any] = {
        "id": str(event.id),
        "cursor": event_cursor(event.id),
        "type": event.type,
        "recordType": event.aggregate_type,
        "recordId": event.aggregate_id,
        "agencyId": str(event.agency_id),
        "occurredAt": event.occurred_at.isoformat(),
        "payload": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def _now() -> datetime:
    return datetime.now(UTC)


async def _finish(delivery_id: int, status: DeliveryStatus, error: str) -> None:
    await WebhookDelivery.filter(id=delivery_id, status__not_in=list(FINISHED)).update(
        status=status, last_error=error[:MAX_ERROR_LENGTH], finished_at=_now()
    )


async def _record_attempt(
    delivery: WebhookDelivery, status_code: int | None, error: str, delivered: bool
) -> None:
    WEBHOOK_ATTEMPTS.labels("delivered" if delivered else "failed").inc()
    async with in_transaction() as connection:
        changes: dict[str, Any] = {
            "attempts": F("attempts") + 1,
            "last_response_code": status_code,
            "last_error": error[:MAX_ERROR_LENGTH],
        }
        if delivered:
            changes.update(status=DeliveryStatus.DELIVERED, finished_at=_now())
        await WebhookDelivery.filter(id=delivery.id).using_db(connection).update(**changes)
        if delivered:
            await (
                WebhookEndpoint.filter(id=delivery.endpoint_id, consecutive_failures__gt=0)
                .using_db(connection)
                .update(consecutive_failures=0)
            )


async def _post(
    config: WebhookConfig, delivery: WebhookDelivery, endpoint: WebhookEndpoint, body: bytes
) -> AttemptOutcome:
    try:
        target = await resolve_target(endpoint.url, config.allow_private_targets)
    except TargetRefused as exc:
        await _record_attempt(delivery, None, exc.message, delivered=False)
        raise DeliveryAbandoned(exc.message) from exc
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host_header,
        SIGNATURE_HEADER: signature_header(endpoint.secret, body, int(time.time())),
        EVENT_ID_HEADER: str(delivery.event_id),
        DELIVERY_ID_HEADER: str(delivery.id),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    status_code: int | None
    try:
        with tracing.span("webhook post", SpanKind.CLIENT, {"server.address": target.host}):
            status_code = await _send(config, target.connect_url, body, headers, extensions)
    except httpx.HTTPError as exc:
        status_code, error = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
    else:
        error = "" if 200 <= status_code < 300 else f"HTTP {status_code}"
    delivered = not error
    await _record_attempt(delivery, status_code, error, delivered)
    return AttemptOutcome(delivered, status_code, error)


async def _send(
    config: WebhookConfig,
    url: str,
    body: bytes,
    headers: dict[str, str],
    extensions: dict[str, str],
) -> int:
    async with (
        httpx.AsyncClient(
            timeout=config.timeout_seconds, follow_redirects=False, trust_env=False
        ) as client,
        client.stream(
            "POST", url, content=body, headers=headers, extensions=extensions
        ) as response,
    ):
        # The answer's body is never read: an endpoint cannot make us hold a large one.
        return response.status_code


async def attempt_delivery(config: WebhookConfig, delivery_id: int) -> AttemptOutcome:
    """One attempt; a delivered one is not sent again (Temporal may repeat an activity)."""
    delivery = await WebhookDelivery.get_or_none(id=delivery_id).prefetch_related("endpoint")
    if delivery is None:
        raise DeliveryAbandoned(f"Delivery {delivery_id} no longer exists.")
    if delivery.status == DeliveryStatus.DELIVERED:
        return AttemptOutcome(True, delivery.last_response_code, "")
    if delivery.status in FINISHED:
        raise DeliveryAbandoned(f"Delivery {delivery_id} is {delivery.status}.")
    endpoint: WebhookEndpoint = delivery.endpoint
    if not endpoint.active:
        await _finish(delivery.id, DeliveryStatus.SKIPPED, "The endpoint is switched off.")
        raise DeliveryAbandoned("The endpoint is switched off.")
    event = await Event.get_or_none(id=delivery.event_id)
    if event is None:
        await _finish(delivery.id, DeliveryStatus.SKIPPED, "The event no longer exists.")
        raise DeliveryAbandoned("The event no longer exists.")
    return await _post(config, delivery, endpoint, webhook_body(event))


async def _admins(agency_id: Any, connection: Any) -> list[User]:
    people = await User.filter(agency_id=agency_id, is_active=True).using_db(connection)
    return [user for user in people if Role.ADMIN.value in user.roles]


async def record_failed_delivery(config: WebhookConfig, delivery_id: int) -> bool:
    """Mark a delivery failed after its last attempt; True if its endpoint was switched off.

    The endpoint counts failed deliveries in a row (a delivered one resets the count); at
    `disable_after_failures` it is switched off, with a `webhook_endpoint.disabled` event and
    a notification for each admin, so nothing is sent to it until an admin turns it back on.
    """
    async with in_transaction() as connection:
        delivery = (
            await WebhookDelivery.filter(id=delivery_id)
            .using_db(connection)
            .select_for_update()
            .get_or_none()
        )
        if delivery is None or delivery.status in FINISHED:
            return False
        delivery.status = DeliveryStatus.FAILED
        delivery.finished_at = _now()
        await delivery.save(using_db=connection, update_fields=["status", "finished_at"])
        WEBHOOK_DELIVERIES_FAILED.inc()
        endpoint = (
            await WebhookEndpoint.filter(id=delivery.endpoint_id)
            .using_db(connection)
            .select_for_update()
            .get_or_none()
        )
        if endpoint is None:
            return False
        endpoint.consecutive_failures += 1
        switch_off = endpoint.active and (
            endpoint.consecutive_failures >= config.disable_after_failures
        )
        if switch_off:
            endpoint.active = False
            endpoint.disabled_reason = (
                f"{endpoint.consecutive_failures} deliveries in a row failed; "
                f"the last one: {delivery.last_error or 'no answer'}"
            )[:500]
        await endpoint.save(
            using_db=connection,
            update_fields=["consecutive_failures", "active", "disabled_reason", "updated_at"],
        )
        if switch_off:
            await _announce_switch_off(endpoint, connection)
    return switch_off


async def _announce_switch_off(endpoint: WebhookEndpoint, connection: Any) -> None:
    system = Actor.system(endpoint.agency_id, "webhooks")
    endpoint_id = str(endpoint.id)
    change = {"active": False, "reason": endpoint.disabled_reason, "url": endpoint.url}
    await record_audit(
        system, ENDPOINT_AGGREGATE, endpoint_id, "disable", {"active": True}, change, connection
    )
    await append_event(
        system,
        f"{ENDPOINT_AGGREGATE}.disabled",
        ENDPOINT_AGGREGATE,
        endpoint_id,
        change,
        connection,
    )
    message = (
        f"Webhook endpoint {endpoint.url} was switched off: {endpoint.disabled_reason}. "
        "Fix the receiver, then turn it on again (updateWebhookEndpoint, active: true)."
    )
    for admin in await _admins(endpoint.agency_id, connection):
        await notify_user(
            system,
            admin.id,
            message,
            ENDPOINT_AGGREGATE,
            endpoint_id,
            "webhooks",
            connection,
            NotificationKind.SYSTEM,
        )


async def pending_deliveries(limit: int) -> list[WebhookDelivery]:
    """Deliveries whose workflow the relay has yet to start, oldest first."""
    return await WebhookDelivery.filter(status=DeliveryStatus.PENDING).order_by("id").limit(limit)


async def mark_workflow_started(delivery_id: int) -> None:
    """Pending -> delivering, unless an attempt already moved it on."""
    await WebhookDelivery.filter(id=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.DELIVERING, workflow_started_at=_now()
    )
