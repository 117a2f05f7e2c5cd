"""The Temporal worker: seeds the default flows, polls the flows task queue, relays the outbox,
and keeps the maintenance schedules (the daily document purge)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

from pydantic import SecretStr
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.broadcasts import BroadcastActivities
from activities.campaigns import CAMPAIGN_ACTIVITIES
from activities.documents import DocumentActivities
from activities.email import EmailActivities
from activities.flows import FLOW_ACTIVITIES
from activities.imports import ImportActivities
from activities.inbound_emails import InboundEmailActivities
from activities.lead_scoring import SCORING_ACTIVITIES
from activities.mailboxes import MailboxActivities
from activities.meetings import MEETING_ACTIVITIES
from activities.messages import MessageActivities
from activities.report_delivery import REPORT_DELIVERY_ACTIVITIES
from activities.tickets import TICKET_ACTIVITIES
from crm.flow_files import load_default_flows, load_default_templates
from crm.logging import WORKER_LOGGER
from crm.metrics_http import MetricsPage, free_loopback_address, serve_metrics, temporal_metrics
from crm.outbox_relay import OutboxRelay, RelayTiming
from crm.schedules import ensure_schedules
from crm.settings import Settings
from crm.tracing import tracing_interceptors
from crm.webhook_worker import run_webhook_worker
from db.agencies import Agency
from db.connection import database
from domain.emails import SmtpConfig
from domain.flows.service import seed_default_flows
from domain.mailbox_fetch import FetchLimits
from domain.message_templates import seed_default_templates
from workflows import DATA_CONVERTER
from workflows.broadcast import SendBroadcast
from workflows.campaign_period import CampaignPeriod
from workflows.campaign_summaries import CampaignSummaries
from workflows.contact_score import ContactScoreWatch
from workflows.document_purge import PurgeDeletedDocuments
from workflows.email_delivery import DeliverEmail
from workflows.flow_run import FlowRun
from workflows.inbound_email import ProcessInboundEmail
from workflows.mailbox_fetch import FetchMailboxes
from workflows.meeting_reminder import MeetingReminder
from workflows.message_delivery import DeliverMessage
from workflows.record_import import ImportRecords
from workflows.report_delivery import DeliverReport
from workflows.ticket_closing import TicketClosing
from workflows.ticket_sla import TicketSla

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


async def connect_temporal(
    settings: Settings, stop: asyncio.Event, runtime: Runtime | None = None
) -> Client | None:
    """Connect to Temporal, retrying with backoff until it answers; None if `stop` comes first.

    `runtime`: the SDK runtime to use (one exporting its metrics), else the default one."""
    delay = FIRST_RETRY_DELAY
    while not stop.is_set():
        try:
            return await Client.connect(
                settings.temporal_address,
                namespace=settings.temporal_namespace,
                data_converter=DATA_CONVERTER,
                runtime=runtime,
                interceptors=tracing_interceptors(),
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
            async with asyncio.timeout(delay):
                await stop.wait()
        delay = min(delay * 2, MAX_RETRY_DELAY)
    return None


async def seed_flows_for(settings: Settings, agency_ids: Sequence[UUID]) -> None:
    """Publish the default templates and flows of temporal.yaml for each agency that has none
    of their keys (idempotent: an agency's own versions are never replaced)."""
    templates = load_default_templates(settings.temporal_config)
    defaults = load_default_flows(settings.temporal_config)
    for agency_id in agency_ids:
        published = await seed_default_templates(agency_id, templates)
        if published:
            log.info(
                "default templates published",
                extra={"agency": str(agency_id), "templates": ",".join(published)},
            )
        seeded = await seed_default_flows(agency_id, defaults)
        if seeded:
            log.info(
                "default flows published",
                extra={"agency": str(agency_id), "flows": ",".join(seeded)},
            )


async def seed_flows(settings: Settings) -> None:
    """At worker start, for every agency (`crm bootstrap` seeds a new agency itself)."""
    agency_ids = await Agency.all().values_list("id", flat=True)
    await seed_flows_for(settings, [UUID(str(agency_id)) for agency_id in agency_ids])


async def run_worker(
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event | None = None,
    relay_timing: RelayTiming | None = None,
) -> None:
    """Run the worker and the outbox relay until `stop` is set, then shut them down gracefully.

    The default flows are seeded before Temporal is reached, so changes made while Temporal is
    away still trigger them. `ready` (optional) is set once the worker is connected and
    polling, for callers that wait for the whole stack to be up. A worker that fails on its
    own raises.
    """
    # A Tortoise context of our own: the API may share this process (`crm dev`) with its own.
    async with database(settings.database_url, settings.database_lock_wait):
        await seed_flows(settings)
        metrics_stop = asyncio.Event()
        metrics: asyncio.Task[None] | None = None
        runtime: Runtime | None = None
        if settings.worker_metrics_address:
            # The SDK's own metrics: its exporter on a loopback port, read by our page.
            temporal_address = free_loopback_address()
            runtime = Runtime(
                telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=temporal_address))
            )
            page = MetricsPage(settings.metrics_token, temporal_metrics(temporal_address))
            metrics = asyncio.create_task(
                serve_metrics(settings.worker_metrics_address, page, metrics_stop),
                name="worker-metrics",
            )
        try:
            await _run_worker(settings, stop, ready, relay_timing, runtime)
        finally:
            metrics_stop.set()
            if metrics is not None:
                await metrics


async def _run_worker(
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
    relay_timing: RelayTiming | None,
    runtime: Runtime | None,
) -> None:
    """Connected to Temporal: the worker, the outbox relay and the webhooks until `stop`."""
    task_queue = settings.task_queues.flows
    client = await connect_temporal(settings, stop, runtime)
    if client is None:
        return
    try:
        await ensure_schedules(client, task_queue, timedelta(seconds=settings.mailbox_poll_seconds))
    except RPCError as error:  # flows matter more: run without the schedule, say so
        log.error(
            "could not create the maintenance schedules; deleted documents are purged "
            "only by `crm documents purge` until a worker does",
            extra={"error": str(error)},
        )
    documents = DocumentActivities(
        settings.storage(), timedelta(days=settings.document_retention_days)
    )
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[
            DeliverEmail,
            DeliverMessage,
            FlowRun,
            FetchMailboxes,
            ProcessInboundEmail,
            MeetingReminder,
            CampaignPeriod,
            CampaignSummaries,
            TicketClosing,
            TicketSla,
            ContactScoreWatch,
            PurgeDeletedDocuments,
            SendBroadcast,
            ImportRecords,
            DeliverReport,
        ],
        activities=[
            EmailActivities(smtp_config(settings)).send_email,
            *MessageActivities(smtp_config(settings), settings.unsubscribe_links()).activities(),
            *BroadcastActivities(
                smtp_config(settings),
                settings.unsubscribe_links(),
                settings.broadcast_rate_per_second,
            ).activities(),
            documents.purge_deleted_documents,
            *ImportActivities(settings.storage(), settings.import_limits()).activities(),
            *InboundEmailActivities(settings.storage(), settings.upload_limits()).activities(),
            *MailboxActivities(
                settings.storage(),
                settings.unsubscribe_links(),
                settings.mailbox_policy(),
                FetchLimits(max_bytes=settings.inbound_max_bytes),
            ).activities(),
            *FLOW_ACTIVITIES,
            *MEETING_ACTIVITIES,
            *CAMPAIGN_ACTIVITIES,
            *TICKET_ACTIVITIES,
            *SCORING_ACTIVITIES,
            *REPORT_DELIVERY_ACTIVITIES,
        ],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )
    # Created inside the context, so activities and the relay see this context's connections.
    running = asyncio.create_task(worker.run(), name="temporal-worker")
    relay = asyncio.create_task(
        OutboxRelay(client, task_queue, relay_timing).run(stop), name="outbox-relay"
    )
    webhooks_stop = asyncio.Event()
    webhooks = asyncio.create_task(
        run_webhook_worker(client, settings, webhooks_stop), name="webhooks"
    )
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
        if not relay.done():
            relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        webhooks_stop.set()
        await webhooks
    await running  # re-raises what made the worker stop on its own
    log.info("worker stopped", extra={"task_queue": task_queue})
