"""The webhook side of the worker: polls the webhooks task queue and runs the webhook relay.

Webhooks have a task queue of their own: slow receivers never hold up flows, and the two can
be scaled apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.webhooks import WebhookActivities
from crm.logging import WORKER_LOGGER
from crm.settings import Settings
from crm.webhook_relay import WebhookRelay, WebhookRelayTiming
from workflows.webhook_delivery import DeliverWebhook

log = logging.getLogger(f"{WORKER_LOGGER}.webhooks")

GRACEFUL_SHUTDOWN = timedelta(seconds=10)


def webhook_worker(client: Client, settings: Settings) -> Worker:
    activities = WebhookActivities(settings.webhooks())
    return Worker(
        client,
        task_queue=settings.task_queues.webhooks,
        workflows=[DeliverWebhook],
        activities=[activities.deliver_webhook, activities.record_webhook_failure],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run_webhook_worker(
    client: Client,
    settings: Settings,
    stop: asyncio.Event,
    timing: WebhookRelayTiming | None = None,
) -> None:
    """Deliver webhooks until `stop` is set; call it inside the worker's database context."""
    worker = webhook_worker(client, settings)
    relay = WebhookRelay(client, settings.task_queues.webhooks, settings.webhooks(), timing)
    running = asyncio.create_task(worker.run(), name="webhook-worker")
    relaying = asyncio.create_task(relay.run(stop), name="webhook-relay")
    log.info("webhook worker started", extra={"task_queue": settings.task_queues.webhooks})
    stopping = asyncio.create_task(stop.wait(), name="webhook-worker-stop")
    try:
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        relaying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relaying
        if not running.done():
            await worker.shutdown()
    await running
