"""Many clients writing at once through the real app over HTTP, while the worker and its relays
write to the same database: no write fails, and every change is recorded exactly once, by the
API and by the flows it starts (SQLite and PostgreSQL).

`crm serve` and `crm worker` run as processes of their own on the test's database and a
Temporal dev server of the test's own; the load is the benchmark's
(`bench/write_load.py`): each writer creates a tagged contact, changes it and marks it Hot,
back to back. Marking Hot starts the contact-conversion flow, whose first step the worker
writes (a calling task) while the writers go on, and a webhook endpoint has every contact event
delivered by the worker's webhook relay.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
from strawberry import relay
from temporalio.testing import WorkflowEnvironment

from bench.write_load import fire_writes, writing_stack
from crm.metrics_http import free_loopback_address
from db.audit import AuditEntry
from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.events import Event
from db.flow_runs import FlowRun
from db.outbox import OutboxMessage
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.outbox import OutboxStatus
from domain.webhook_deliveries import WebhookConfig
from domain.webhook_signatures import EVENT_ID_HEADER
from domain.webhooks import create_endpoint
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.test_metrics import sample
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.webhook_receiver import WebhookReceiver

WRITERS = 6
SECONDS = 2.0  # the writers contend from their first request: more seconds add more of the same
SETTLE_SECONDS = 90.0  # for the worker to catch up with every flow the load started


async def settled(agency_id: object, contacts: int, receiver: WebhookReceiver) -> None:
    """Wait until the outbox is delivered, every conversion flow made its calling task and the
    receiver got a webhook for each of the contacts' events."""
    async with asyncio.timeout(SETTLE_SECONDS):
        while True:
            pending = await OutboxMessage.filter(
                agency_id=agency_id, status=OutboxStatus.PENDING
            ).count()
            tasks = await CallingTask.filter(agency_id=agency_id).count()
            if pending == 0 and tasks >= contacts and len(receiver.received) >= 3 * contacts:
                return
            await asyncio.sleep(0.2)


METRICS_TOKEN = "metrics-token-of-the-load-test"


async def the_worker_and_api_metrics_show_the_load(
    api_url: str, worker_address: str, contacts: int, postgres: bool
) -> None:
    """The worker's own listener serves its metrics and the Temporal SDK's, to the token only;
    the API's page counts the writers' requests."""
    scrape = {"authorization": f"Bearer {METRICS_TOKEN}"}
    async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
        refused = await client.get(f"http://{worker_address}/metrics")
        assert refused.status_code == 401
        worker = (await client.get(f"http://{worker_address}/metrics", headers=scrape)).text
        api = (await client.get(f"{api_url}/metrics", headers=scrape)).text
    assert sample(worker, "crm_outbox_relayed_total", outcome="delivered") >= 2 * contacts
    assert sample(worker, "crm_flow_run_reports_total") >= contacts
    assert sample(worker, "crm_webhook_attempts_total", outcome="delivered") >= 3 * contacts
    assert sample(worker, "crm_outbox_backlog") == 0
    if postgres:  # read from the worker's own pool when scraped
        assert sample(worker, "crm_database_pool_connections", state="max") >= 1
    assert "temporal_workflow_completed" in worker or "temporal_request" in worker, worker[-2000:]
    creates = sample(
        api,
        "crm_http_request_duration_seconds_count",
        route="/graphql",
        status="200",
        operation="mutation createContact",
    )
    assert creates >= contacts


async def test_concurrent_writers_all_succeed_and_each_change_is_recorded_once(
    db: OpenDatabase,
    own_dev_server: WorkflowEnvironment,
    webhook_receiver: WebhookReceiver,
    tmp_path: Path,
) -> None:
    agency, _, _ = await bootstrap_agency("Acme", "acme", ADMIN_EMAIL, "Ada", ADMIN_PASSWORD)
    await create_endpoint(
        Actor.system(agency.id, "test"),
        WebhookConfig(allow_private_targets=True),
        {"url": webhook_receiver.url, "event_types": ["contact.*"]},
    )
    address = own_dev_server.client.service_client.config.target_host
    worker_metrics = free_loopback_address()
    settings = {
        "CRM_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "CRM_METRICS_TOKEN": METRICS_TOKEN,
        "CRM_WORKER_METRICS_ADDRESS": worker_metrics,
    }
    async with writing_stack(db.url, tmp_path, address, settings) as base_url:
        load = await fire_writes(base_url, ADMIN_EMAIL, ADMIN_PASSWORD, WRITERS, SECONDS)
        result = load.result
        assert result.failures == 0, f"{result.failures} failed, first: {result.first_failure}"
        # BUSY is what a write gets only after waiting its whole bound (10 s) for a lock: under
        # this load every write gets the lock long before (before the fix, 1 in 3 was refused).
        assert result.busy == 0, f"{result.busy} writes were refused as BUSY and retried"
        ids = {relay.GlobalID.from_id(global_id).node_id for global_id in load.contact_ids}
        assert len(ids) >= WRITERS, f"the load made too few contacts to show anything: {result}"
        await settled(agency.id, len(ids), webhook_receiver)
        await the_worker_and_api_metrics_show_the_load(
            base_url, worker_metrics, len(ids), postgres=db.backend == "postgres"
        )

    stored = {
        str(c) for c in await Contact.filter(agency_id=agency.id).values_list("id", flat=True)
    }
    assert stored == ids, "every answered create is one row, and no other row exists"

    audit = Counter(
        await AuditEntry.filter(agency_id=agency.id, entity_type="contact").values_list(
            "entity_id", "action"
        )
    )
    events = Counter(
        await Event.filter(agency_id=agency.id, aggregate_type="contact").values_list(
            "aggregate_id", "type"
        )
    )
    for contact_id in ids:
        actions = {action: n for (entity, action), n in audit.items() if entity == contact_id}
        assert actions == {"create": 1, "update": 1, "transition:mark_hot": 1}, contact_id
        types = {kind: n for (entity, kind), n in events.items() if entity == contact_id}
        assert types == {"contact.created": 1, "contact.updated": 1, "contact.transitioned": 1}

    runs = Counter(
        await FlowRun.filter(agency_id=agency.id, record_type="contact").values_list(
            "record_id", "flow_key"
        )
    )
    assert runs == Counter(
        {
            (contact_id, key): 1
            for contact_id in ids
            for key in ("contact-nurture", "contact-conversion")
        }
    )
    calls = Counter(
        str(contact)
        for contact in await CallingTask.filter(agency_id=agency.id).values_list(
            "contact_id", flat=True
        )
    )
    assert calls == Counter(dict.fromkeys(ids, 1)), "one call per Hot contact, none twice"

    contact_events = await Event.filter(agency_id=agency.id, aggregate_type="contact").values_list(
        "id", flat=True
    )
    delivered = Counter(hook.headers[EVENT_ID_HEADER.lower()] for hook in webhook_receiver.received)
    assert delivered == Counter(str(event_id) for event_id in contact_events), (
        "each contact event reaches the webhook once"
    )
