"""Many tickets' SLA clocks running at once on one `crm worker`: its memory, and how late the
warnings and breaches are recorded against their due times.

A Temporal dev server of the benchmark's own, a SQLite database of its own and one
`crm worker` process (the production worker: its outbox relay starts each ticket's
`TicketSla` run, its activities record the alarms). The benchmark opens the tickets the way
the product does, one `create_ticket` after another as the agency's admin (assigned to that
admin, so each warning notifies someone and each breach is escalated to the admins): each
takes the agency's policy, a first-response target of `target` with its warning at
`warning_share` of it, under a calendar open around the clock, so business time is wall time
and the alarms fall due at the rate the tickets were opened.

Lateness is what the product records: the audit row of each warning and breach
(`sla_warning:first_response`, `sla_breach:first_response`) is written when the worker
records the alarm; its time against the due time the alarm carries (the ticket's creation plus
the target's share) is how late it fired, relay, timer, task and transaction together. Every
ticket must get exactly one of each, else a `BenchmarkError`. Memory is the worker's resident
set (`VmRSS`) before the tickets, once every ticket's run has started, and its peak (`VmHWM`);
its CPU time per ticket is the figure least moved by a loaded machine.

The policy row is written directly, not through `publishSlaPolicy`, which takes whole minutes:
the in-suite run (`tests/bench/test_sla_timers.py`) uses targets of seconds.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from tortoise.context import TortoiseContext

from bench.broadcast_load import peak_mib, process_mib
from bench.client import BenchmarkError
from bench.concurrent_load import WORKER_STARTED, start_crm, stop_crm, wait_for_line
from bench.timings import percentile
from bench.write_load import temporal_config_for, worker_environment
from crm.dev_stack import find_temporal_binary
from db.audit import AuditEntry
from db.connection import database, migrate
from db.service_levels import SlaPolicy
from db.tickets import Ticket
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.roles import Role
from domain.service_levels import set_business_calendar
from domain.tickets import create_ticket
from workflows import DATA_CONVERTER

SLA_TICKETS = 10_000
# Longer than opening 10,000 tickets takes on 2 shared cores, so most runs are asleep at once.
TARGET = timedelta(minutes=4)
WARNING_SHARE = 0.5
TIMEOUT = timedelta(minutes=15)  # after the last breach was due
ALL_WEEK = [[[0, 1440]]] * 7
WARNING, BREACH = "sla_warning:first_response", "sla_breach:first_response"


@dataclass(frozen=True)
class Lateness:
    count: int
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class SlaTimersResult:
    tickets: int
    target_seconds: float
    warning_share: float
    open_seconds: float  # to open every ticket through the ticket service
    worker_idle_mib: float | None
    worker_running_mib: float | None  # every ticket's run started
    worker_peak_mib: float | None
    warnings: Lateness
    breaches: Lateness
    # The worker's CPU time (user and system) from before the first ticket to the last breach,
    # per ticket (its run started, warned and breached): a figure the machine's load moves less.
    worker_cpu_ms_per_ticket: float | None = None

    @property
    def kib_per_ticket(self) -> float | None:
        if self.worker_idle_mib is None or self.worker_running_mib is None:
            return None
        return round((self.worker_running_mib - self.worker_idle_mib) * 1024 / self.tickets, 1)


def cpu_seconds(pid: int) -> float | None:
    """A running process's user and system CPU time (Linux `/proc/<pid>/stat`)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the name: state is field 3, utime and stime are fields 14 and 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lateness(seconds: list[float]) -> Lateness:
    return Lateness(
        count=len(seconds),
        p50_ms=round(percentile(seconds, 50) * 1000, 1),
        p99_ms=round(percentile(seconds, 99) * 1000, 1),
        max_ms=round(max(seconds) * 1000, 1),
    )


async def _started(client: Client) -> int:
    """`TicketSla` runs started so far (the server is the benchmark's own)."""
    return (await client.count_workflows("WorkflowType = 'TicketSla'")).count


async def _desk(target: timedelta, warning_share: float) -> tuple[Actor, uuid.UUID]:
    """The agency, its admin as the actor, its calendar and its policy."""
    agency, admin, _ = await bootstrap_agency(
        "SLA Bench", "sla-bench", "admin@sla.bench.example.com", "SLA Admin", "sla bench password"
    )
    actor = Actor(
        agency_id=agency.id,
        id=f"user:{admin.id}",
        user_id=admin.id,
        roles=frozenset({Role.ADMIN}),
    )
    await set_business_calendar(actor, {"weekly_hours": ALL_WEEK})
    minutes = target.total_seconds() / 60
    target_row = {"priority": "normal", "rating": "", "first_response_minutes": minutes}
    await SlaPolicy.create(
        agency_id=agency.id,
        version=1,
        targets=[{**target_row, "resolution_minutes": None}],
        warning_share=warning_share,
        created_by=actor.id,
    )
    return actor, admin.id


async def _recorded(agency_id: uuid.UUID) -> dict[str, list[float]]:
    """Seconds from due to recorded, per alarm kind; one alarm of a kind per ticket."""
    rows = await AuditEntry.filter(agency_id=agency_id, action__in=[WARNING, BREACH]).values_list(
        "action", "entity_id", "after", "occurred_at"
    )
    late: dict[str, list[float]] = {WARNING: [], BREACH: []}
    seen: set[tuple[str, str]] = set()
    for action, ticket_id, after, occurred_at in rows:
        if (action, ticket_id) in seen:
            raise BenchmarkError(f"ticket {ticket_id}: {action} recorded twice")
        seen.add((action, ticket_id))
        due = datetime.fromisoformat(after["due_at"])
        late[action].append((occurred_at - due).total_seconds())
    return late


async def sla_timers_benchmark(
    workdir: Path,
    tickets: int = SLA_TICKETS,
    target: timedelta = TARGET,
    warning_share: float = WARNING_SHARE,
) -> SlaTimersResult:
    """Open `tickets` tickets with clocks on one worker, wait for every breach, read the
    figures."""
    database_url = f"sqlite://{workdir / 'sla-timers.sqlite3'}"
    async with TortoiseContext():
        await migrate(database_url)
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_binary()),
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
        data_converter=DATA_CONVERTER,
    )
    async with environment, database(database_url):
        client = environment.client
        config = temporal_config_for(workdir, uuid.uuid4().hex[:8])
        env = worker_environment(
            database_url, workdir, client.service_client.config.target_host, config
        )
        worker, log = await start_crm(["worker"], env, workdir / "sla-worker.log")
        try:
            await wait_for_line(worker, log, WORKER_STARTED)
            idle = process_mib(worker.pid, "VmRSS")
            cpu_before = cpu_seconds(worker.pid)
            actor, admin_id = await _desk(target, warning_share)
            loop = asyncio.get_running_loop()
            started = loop.time()
            for n in range(tickets):
                await create_ticket(actor, {"subject": f"SLA ticket {n}", "assignee_id": admin_id})
            open_seconds = loop.time() - started
            deadline = started + open_seconds + target.total_seconds() + TIMEOUT.total_seconds()
            while await _started(client) < tickets:
                if loop.time() > deadline:
                    raise BenchmarkError("SLA timers: the relay did not start every run")
                await asyncio.sleep(0.5)
            running = process_mib(worker.pid, "VmRSS")
            breached = Ticket.filter(
                agency_id=actor.agency_id, first_response_breached_at__isnull=False
            )
            while await breached.count() < tickets:
                if loop.time() > deadline:
                    raise BenchmarkError(f"SLA timers: breaches still due after {TIMEOUT}")
                await asyncio.sleep(1.0)
            peak = max(filter(None, (peak_mib(worker.pid), running)), default=None)
            cpu_after = cpu_seconds(worker.pid)
        finally:
            await stop_crm(worker)
        late = await _recorded(actor.agency_id)
    if (len(late[WARNING]), len(late[BREACH])) != (tickets, tickets):
        raise BenchmarkError(
            f"SLA timers: {len(late[WARNING])} warnings and {len(late[BREACH])} breaches "
            f"recorded for {tickets} tickets"
        )
    return SlaTimersResult(
        tickets=tickets,
        target_seconds=target.total_seconds(),
        warning_share=warning_share,
        open_seconds=round(open_seconds, 1),
        worker_idle_mib=idle,
        worker_running_mib=running,
        worker_peak_mib=peak,
        warnings=lateness(late[WARNING]),
        breaches=lateness(late[BREACH]),
        worker_cpu_ms_per_ticket=(
            round((cpu_after - cpu_before) * 1000 / tickets, 2)
            if cpu_before is not None and cpu_after is not None
            else None
        ),
    )
