"""The webhook relay: starts a DeliverWebhook workflow for every pending delivery.

Deliveries are written as pending in the transaction of their event (`domain.webhook_dispatch`),
so the delivery table is this relay's outbox: nothing is lost while Temporal is away, and the
relay backs off and tries again. A start uses the workflow id `webhook:<delivery id>`: while
that run is open, a second start of the same delivery (a retry, or a relay in another worker
process) is "already started", never a second run. A closed run may be started again (the
relay stopped between starting it and marking the row): the new run's attempt finds the
delivery finished and sends nothing. Allowing that also keeps a reused id (a database reset
against the same Temporal namespace) from being swallowed by an old run's history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from crm.logging import WORKER_LOGGER
from db.busy import is_busy
from domain.webhook_deliveries import WebhookConfig, mark_workflow_started, pending_deliveries
from workflows.webhook_delivery import DeliverWebhook, WebhookDeliveryInput, workflow_id_for

log = logging.getLogger(f"{WORKER_LOGGER}.webhooks")


@dataclass(frozen=True)
class WebhookRelayTiming:
    """How often the relay looks, and how it backs off; tests shorten these."""

    poll_interval: timedelta = timedelta(milliseconds=500)
    longest_pause: timedelta = timedelta(minutes=1)
    rpc_timeout: timedelta = timedelta(seconds=10)
    batch_size: int = 100


class WebhookRelay:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        config: WebhookConfig,
        timing: WebhookRelayTiming | None = None,
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.config = config
        self.timing = timing or WebhookRelayTiming()

    def _input(self, delivery_id: int) -> WebhookDeliveryInput:
        return WebhookDeliveryInput(
            delivery_id=delivery_id,
            max_attempts=self.config.max_attempts,
            first_retry_seconds=self.config.first_retry_seconds,
            longest_retry_seconds=self.config.longest_retry_seconds,
            attempt_timeout_seconds=self.config.timeout_seconds,
        )

    async def start_due(self) -> int:
        """Start the workflows of the pending deliveries; how many were started (or found)."""
        started = 0
        for delivery in await pending_deliveries(self.timing.batch_size):
            workflow_id = workflow_id_for(delivery.id)
            try:
                await self.client.start_workflow(
                    DeliverWebhook.run,
                    self._input(delivery.id),
                    id=workflow_id,
                    task_queue=self.task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                    static_summary=f"{delivery.event_type} to endpoint {delivery.endpoint_id}",
                    rpc_timeout=self.timing.rpc_timeout,
                )
            except WorkflowAlreadyStartedError:
                log.info("webhook delivery already started", extra={"workflow_id": workflow_id})
            await mark_workflow_started(delivery.id)
            started += 1
        return started

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set, backing off while Temporal (or the database) is away."""
        failures = 0
        while not stop.is_set():
            pause = self.timing.poll_interval
            try:
                if await self.start_due() >= self.timing.batch_size:
                    pause = timedelta(0)
                failures = 0
            except Exception as error:  # Temporal or the database is away: both come back
                failures += 1
                pause = min(self.timing.poll_interval * (2**failures), self.timing.longest_pause)
                log.warning(
                    "webhook deliveries not started, retrying",
                    exc_info=not (
                        isinstance(error, RPCError | RuntimeError | OSError) or is_busy(error)
                    ),
                    extra={"error": str(error), "retry_in_s": pause.total_seconds()},
                )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause.total_seconds()):
                    await stop.wait()
