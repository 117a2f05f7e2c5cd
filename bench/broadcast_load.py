"""A broadcast to 10,000 recipients into a local SMTP sink, sent by a real `crm worker` on a
Temporal dev server: messages per second against raw SMTP sends to the same sink (the
baseline, measured in the same run), the worker's peak memory, and a second broadcast whose
worker is stopped mid-way and started again, counting duplicates at the sink (the goal: 0).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from temporalio.testing import WorkflowEnvironment

from bench.client import BenchmarkError
from bench.concurrent_load import (
    WORKER_STARTED,
    free_port,
    start_crm,
    stop_crm,
    wait_for_line,
)
from bench.write_load import temporal_config_for
from crm.dev_stack import find_temporal_binary
from db.broadcasts import BroadcastRun
from db.connection import database
from db.contacts import Contact
from db.tags import RecordTag, Tag
from domain import message_templates
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.broadcasts import create_broadcast

RECIPIENTS = 10_000
BASELINE_SENDS = 1_000
TAG = "greetings-bench"
# The worker is stopped once this share of the second broadcast has reached the sink.
STOP_AT = 0.3
TIMEOUT = 1_800.0
TEMPLATE = {
    "key": "bench-greeting",
    "name": "Bench greeting",
    "kind": "greetings",
    "subject": "Season's greetings, {{ recipient.first_name }}",
    "text_body": "Warm wishes from {{ agency.name }}.",
}


@dataclass(frozen=True)
class BroadcastResult:
    recipients: int
    seconds: float
    messages_per_second: float
    smtp_baseline_per_second: float
    ratio: float  # broadcast rate / raw SMTP rate
    worker_peak_mib: float | None
    restarted_at: int  # messages at the sink when the worker was stopped
    restart_sent: int  # messages of the restarted broadcast at the sink
    duplicates: int


GUESTS = "@guests.bench.example.com"


class CountingSink:
    """An SMTP server that counts the audience's recipients and keeps nothing else (the
    database's other agencies may have flows sending their own mail meanwhile)."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.update(a for a in envelope.rcpt_tos if a.endswith(GUESTS))
        return "250 OK"

    def __enter__(self) -> CountingSink:
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    def total(self) -> int:
        return sum(self.received.values())


async def smtp_baseline(port: int) -> float:
    """Raw sends a second to the sink: one connection per message, as the worker sends."""
    started = time.perf_counter()
    for n in range(BASELINE_SENDS):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "b@x.test", f"r{n}@x.test", "hi"
        message.set_content("Warm wishes.")
        await aiosmtplib.send(message, hostname="127.0.0.1", port=port)
    return BASELINE_SENDS / (time.perf_counter() - started)


async def audience(recipients: int) -> uuid.UUID:
    """An agency of its own with `recipients` tagged contacts and a published greeting."""
    agency, _, _ = await bootstrap_agency(
        "Broadcast bench",
        f"broadcast-{uuid.uuid4().hex[:8]}",
        f"admin-{uuid.uuid4().hex[:8]}@bench.example.com",
        "Bench",
        "bench-password-not-secret",
    )
    tag = await Tag.create(id=uuid.uuid4(), agency_id=agency.id, name=TAG, key=TAG)
    contacts = [
        Contact(
            id=uuid.uuid4(),
            agency_id=agency.id,
            first_name=f"Guest{n}",
            emails=[f"guest{n}{GUESTS}"],
            tags=[TAG],
            search_text=f"guest{n}",
        )
        for n in range(recipients)
    ]
    await Contact.bulk_create(contacts, batch_size=5_000)
    await RecordTag.bulk_create(
        [
            RecordTag(agency_id=agency.id, record_type="contact", record_id=c.id, tag_id=tag.id)
            for c in contacts
        ],
        batch_size=5_000,
    )
    await message_templates.seed_default_templates(agency.id, [TEMPLATE])
    return agency.id


def process_mib(pid: int, field: str = "VmHWM") -> float | None:
    """A memory figure of a running process (Linux `/proc/<pid>/status`), in MiB: its peak
    resident memory (`VmHWM`) unless another field (`VmRSS`: resident now) is named."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def peak_mib(pid: int) -> float | None:
    """The process's peak resident memory, read while it still runs."""
    return process_mib(pid, "VmHWM")


async def _run_status(broadcast_id: uuid.UUID) -> str:
    run = await BroadcastRun.get_or_none(broadcast_id=broadcast_id)
    return run.status if run else ""


async def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not await check():
        if time.monotonic() > deadline:
            raise BenchmarkError(f"broadcast benchmark: {what} did not happen in {TIMEOUT} s")
        await asyncio.sleep(0.1)


async def broadcast_benchmark(
    database_url: str, workdir: Path, recipients: int = RECIPIENTS
) -> BroadcastResult:
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_binary()),
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    async with environment, database(database_url):
        address = environment.client.service_client.config.target_host
        with CountingSink() as sink:
            baseline = await smtp_baseline(sink.port)
            sink.received.clear()
            agency_id = await audience(recipients)
            env = {
                "CRM_DATABASE_URL": database_url,
                "CRM_DATA_DIR": str(workdir),
                "CRM_TEMPORAL_ADDRESS": address,
                "CRM_TEMPORAL_CONFIG": str(temporal_config_for(workdir, uuid.uuid4().hex[:8])),
                "CRM_SMTP_HOST": "127.0.0.1",
                "CRM_SMTP_PORT": str(sink.port),
                "CRM_BROADCAST_RATE_PER_SECOND": "10000",
                "CRM_LOG_LEVEL": "INFO",
            }
            actor = Actor.system(agency_id, "bench")

            async def worker(name: str) -> Any:
                process, log = await start_crm(["worker"], env, workdir / f"{name}.log")
                await wait_for_line(process, log, WORKER_STARTED)
                return process

            async def broadcast(name: str) -> uuid.UUID:
                created = await create_broadcast(
                    actor,
                    {
                        "name": name,
                        "template": TEMPLATE["key"],
                        "audience": {"tags": [TAG]},
                        "send_at": datetime.now(UTC),
                    },
                )
                return created.id

            # 1. A clean run: the rate and the worker's peak memory.
            process = await worker("broadcast-worker")
            try:
                started = time.perf_counter()
                clean = await broadcast("clean")
                await _until(lambda: _is_sent(clean), "the clean broadcast")
                seconds = time.perf_counter() - started
                peak = peak_mib(process.pid)
            finally:
                await stop_crm(process)
            clean_sent = sink.total()
            sink.received.clear()
            # 2. The worker stopped mid-way and started again: nobody gets a second copy.
            process = await worker("broadcast-worker-2")
            restarted = await broadcast("restarted")

            async def reached() -> bool:
                return sink.total() >= recipients * STOP_AT

            try:
                await _until(reached, "the first part of the restarted broadcast")
                stopped_at = sink.total()
            finally:
                await stop_crm(process)
            process = await worker("broadcast-worker-3")
            try:
                await _until(lambda: _is_sent(restarted), "the restarted broadcast")
            finally:
                await stop_crm(process)
    if clean_sent != recipients:
        raise BenchmarkError(f"the clean broadcast reached {clean_sent} of {recipients}")
    rate = recipients / seconds
    return BroadcastResult(
        recipients=recipients,
        seconds=round(seconds, 2),
        messages_per_second=round(rate, 1),
        smtp_baseline_per_second=round(baseline, 1),
        ratio=round(rate / baseline, 2),
        worker_peak_mib=peak,
        restarted_at=stopped_at,
        restart_sent=len(sink.received),
        duplicates=sink.total() - len(sink.received),
    )


async def _is_sent(broadcast_id: uuid.UUID) -> bool:
    return await _run_status(broadcast_id) == "sent"
