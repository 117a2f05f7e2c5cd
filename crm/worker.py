"""The Temporal worker: connects (patiently), opens the database, polls the flows task queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from pydantic import SecretStr
from temporalio.client import Client
from temporalio.worker import Worker

from activities.email import EmailActivities
from crm.logging import WORKER_LOGGER
from crm.settings import Settings
from db.connection import database
from domain.emails import SmtpConfig
from workflows import DATA_CONVERTER
from workflows.email_delivery import DeliverEmail

log = logging.getLogger(WORKER_LOGGER)

FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 10.0
# How long running activities get to finish on shutdown before they are cancelled.
GRACEFUL_SHUTDOWN = timedelta(seconds=10)


def smtp_config(settings: Settings) -> SmtpConfig:
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=SecretStr(settings.smtp_password),
        use_tls=settings.smtp_use_tls,
        mail_from=settings.mail_from,
    )


async def connect_temporal(settings: Settings, stop: asyncio.Event) -> Client | None:
    """Connect to Temporal, retrying with backoff until it answers; None if `stop` comes first."""
    delay = FIRST_RETRY_DELAY
    while not stop.is_set():
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=DATA_CONVERTER,
            )
        except RuntimeError as error:  # the SDK reports an unreachable server as RuntimeError
            log.warning(
                "Temporal is not reachable yet, retrying",
                extra={
                    "address": settings.temporal_address,
                    "retry_in_s": delay,
                    "error": str(error),
                },
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, MAX_RETRY_DELAY)
    return None


async def run_worker(
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
) -> None:
    """Run the worker until `stop` is set, then shut it down gracefully.

    `ready` (optional) is set once the worker is connected and polling, for callers that wait
    for the whole stack to be up. A worker that fails on its own raises.
    """
    task_queue = settings.task_queues.flows
    # A Tortoise context of our own: the API may share this process (`crm dev`) with its own.
    async with database(settings.database_url):
        client = await connect_temporal(settings, stop)
        if client is None:
            return
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[DeliverEmail],
            activities=[EmailActivities(smtp_config(settings)).send_email],
            graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        )
        # Created inside the context, so activities see this context's connections.
        running = asyncio.create_task(worker.run(), name="temporal-worker")
        log.info(
            "worker started",
            extra={
                "address": settings.temporal_address,
                "namespace": settings.temporal_namespace,
                "task_queue": task_queue,
            },
        )
        if ready is not None:
            ready.set()
        stopping = asyncio.create_task(stop.wait(), name="worker-stop")
        try:
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not running.done():
                log.info("worker shutting down", extra={"task_queue": task_queue})
                await worker.shutdown()
        await running  # re-raises what made the worker stop on its own
        log.info("worker stopped", extra={"task_queue": task_queue})
