"""Webhook deliveries end to end below the API: the event's transaction writes the delivery, the
relay starts its workflow on Temporal's test server, the activity POSTs to a real HTTP server
on loopback, and the outcome is recorded."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.webhooks import WebhookActivities
from crm.webhook_relay import WebhookRelay
from db.events import Event
from db.notifications import Notification
from domain import contacts, webhooks
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.errors import DomainError
from domain.webhook_deliveries import DeliveryStatus, WebhookConfig
from domain.webhook_signatures import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    new_webhook_secret,
    verify_signature,
)
from domain.webhooks import WebhookDelivery, WebhookEndpoint, WebhookErrorCode
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.webhook_receiver import WebhookReceiver
from workflows.webhook_delivery import DeliverWebhook, workflow_id_for

LOOPBACK_ALLOWED = WebhookConfig(
    allow_private_targets=True,
    timeout_seconds=5,
    max_attempts=3,
    first_retry_seconds=0.2,
    longest_retry_seconds=0.4,
    disable_after_failures=2,
)


@pytest.fixture
async def admin(db: OpenDatabase) -> Actor:
    agency, _, _ = await bootstrap_agency(
        "Acme", "acme", "admin@acme.example.com", "Ada", "long enough password"
    )
    return Actor.system(agency.id, "test")


async def endpoint_for(
    admin: Actor, receiver: WebhookReceiver, config: WebhookConfig = LOOPBACK_ALLOWED
) -> webhooks.NewWebhookSecret:
    data = {"url": receiver.url, "event_types": ["contact.*"]}
    return await webhooks.create_endpoint(admin, config, data)


@asynccontextmanager
async def delivering(
    env: WorkflowEnvironment, task_queue: str, config: WebhookConfig
) -> AsyncIterator[WebhookRelay]:
    """A webhook worker on the test's task queue, and the relay that starts its workflows."""
    activities = WebhookActivities(config)
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[DeliverWebhook],
        activities=[activities.deliver_webhook, activities.record_webhook_failure],
    ):
        yield WebhookRelay(env.client, task_queue, config)


async def deliver(relay: WebhookRelay, env: WorkflowEnvironment) -> list[tuple[int, str]]:
    """Start every pending delivery and wait for each: (delivery id, workflow result)."""
    pending = await WebhookDelivery.filter(status=DeliveryStatus.PENDING).order_by("id")
    await relay.start_due()
    results = []
    for delivery in pending:
        handle = env.client.get_workflow_handle(workflow_id_for(delivery.id))
        results.append((delivery.id, await handle.result()))
    return results


async def new_contact(admin: Actor, name: str = "Ada") -> Any:
    return await contacts.create_contact(admin, {"first_name": name})


async def test_a_delivery_is_signed_with_the_endpoint_secret(
    admin: Actor,
    webhook_receiver: WebhookReceiver,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    created = await endpoint_for(admin, webhook_receiver)
    contact = await new_contact(admin)
    async with delivering(temporal_env, task_queue, LOOPBACK_ALLOWED) as relay:
        [(_, result)] = await deliver(relay, temporal_env)
    assert result == "delivered"
    [request] = webhook_receiver.received
    event = await Event.get(aggregate_id=str(contact.id), type="contact.created")
    signature = request.headers[SIGNATURE_HEADER.lower()]
    assert verify_signature(created.secret, request.body, signature)
    assert not verify_signature(new_webhook_secret(), request.body, signature)
    assert not verify_signature(created.secret, request.body + b" ", signature)
    assert request.headers[EVENT_ID_HEADER.lower()] == str(event.id)
    body = json.loads(request.body)
    assert (body["id"], body["type"], body["recordId"]) == (
        str(event.id),
        "contact.created",
        str(contact.id),
    )
    assert body["payload"]["first_name"] == "Ada"


async def test_a_failing_endpoint_is_retried_until_it_answers(
    admin: Actor,
    webhook_receiver: WebhookReceiver,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    await endpoint_for(admin, webhook_receiver)
    webhook_receiver.answer(500, 503, otherwise=204)
    await new_contact(admin)
    relay = WebhookRelay(temporal_env.client, task_queue, LOOPBACK_ALLOWED)
    assert await relay.start_due() == 1
    [delivery] = await WebhookDelivery.all()
    # Started again while its run is open (a relay retry, another worker): still one run.
    await WebhookDelivery.filter(id=delivery.id).update(status=DeliveryStatus.PENDING)
    assert await relay.start_due() == 1
    async with delivering(temporal_env, task_queue, LOOPBACK_ALLOWED):
        handle = temporal_env.client.get_workflow_handle(workflow_id_for(delivery.id))
        assert await handle.result() == "delivered"
    delivery = await WebhookDelivery.get(id=delivery.id)
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        DeliveryStatus.DELIVERED,
        3,
        204,
    )
    assert len(webhook_receiver.received) == 3
    event_ids = {r.headers[EVENT_ID_HEADER.lower()] for r in webhook_receiver.received}
    assert event_ids == {str(delivery.event_id)}


async def test_a_failed_delivery_can_be_redelivered(
    admin: Actor,
    webhook_receiver: WebhookReceiver,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    config = replace(LOOPBACK_ALLOWED, max_attempts=2, disable_after_failures=10)
    await endpoint_for(admin, webhook_receiver, config)
    webhook_receiver.answer(otherwise=500)
    await new_contact(admin)
    async with delivering(temporal_env, task_queue, config) as relay:
        [(failed_id, result)] = await deliver(relay, temporal_env)
        failed = await WebhookDelivery.get(id=failed_id)
        assert (result, failed.status, failed.attempts, failed.last_error) == (
            "failed",
            DeliveryStatus.FAILED,
            2,
            "HTTP 500",
        )
        webhook_receiver.answer(otherwise=200)
        again = await webhooks.redeliver(admin, failed_id)
        [(again_id, result)] = await deliver(relay, temporal_env)
    redelivered = await WebhookDelivery.get(id=again_id)
    assert again_id == again.id != failed_id
    assert (result, redelivered.status, redelivered.redelivery_of_id) == (
        "delivered",
        DeliveryStatus.DELIVERED,
        failed_id,
    )
    assert redelivered.event_id == failed.event_id


async def test_an_endpoint_that_keeps_failing_is_switched_off_and_admins_are_told(
    admin: Actor,
    webhook_receiver: WebhookReceiver,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    config = replace(LOOPBACK_ALLOWED, max_attempts=1, disable_after_failures=2)
    created = await endpoint_for(admin, webhook_receiver, config)
    webhook_receiver.answer(otherwise=502)
    await new_contact(admin, "One")
    await new_contact(admin, "Two")
    async with delivering(temporal_env, task_queue, config) as relay:
        results = await deliver(relay, temporal_env)
    assert [result for _, result in results] == ["failed", "failed"]
    endpoint = await WebhookEndpoint.get(id=created.endpoint.id)
    assert not endpoint.active
    assert "2 deliveries in a row failed" in endpoint.disabled_reason
    assert await Event.filter(
        type="webhook_endpoint.disabled", aggregate_id=str(endpoint.id)
    ).exists()
    notices = await Notification.filter(record_type="webhook_endpoint", record_id=str(endpoint.id))
    assert len(notices) == 1  # one admin in the agency
    assert endpoint.url in notices[0].message
    # Switched off: a new change is not sent to it.
    await new_contact(admin, "Three")
    assert await WebhookDelivery.filter(endpoint_id=endpoint.id).count() == 2
    # Turning it on again clears the count.
    await webhooks.update_endpoint(admin, config, endpoint.id, {"active": True})
    endpoint = await WebhookEndpoint.get(id=endpoint.id)
    assert (endpoint.active, endpoint.consecutive_failures, endpoint.disabled_reason) == (
        True,
        0,
        "",
    )


async def test_a_private_target_is_refused_at_registration_and_at_delivery(
    admin: Actor,
    webhook_receiver: WebhookReceiver,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
) -> None:
    public_only = replace(LOOPBACK_ALLOWED, allow_private_targets=False)
    for url in (
        webhook_receiver.url,
        "http://10.1.2.3/hook",
        "http://[::1]:8080/",
        "http://169.254.169.254/",
    ):
        with pytest.raises(DomainError) as refused:
            await webhooks.create_endpoint(admin, public_only, {"url": url, "event_types": ["*"]})
        assert refused.value.code == WebhookErrorCode.TARGET_NOT_ALLOWED, url
    # Registered while allowed (say the name resolved elsewhere then): refused when sent.
    await endpoint_for(admin, webhook_receiver)
    await new_contact(admin)
    async with delivering(temporal_env, task_queue, public_only) as relay:
        [(delivery_id, result)] = await deliver(relay, temporal_env)
    delivery = await WebhookDelivery.get(id=delivery_id)
    assert (result, delivery.status, delivery.attempts) == ("failed", DeliveryStatus.FAILED, 1)
    assert "may not go to 127.0.0.1" in delivery.last_error
    assert webhook_receiver.received == []
