"""The service desk's busiest read: a page of open tickets of one priority with their SLA time
left, among 10,000 tickets of one agency.

An agency of its own (the desk) has a business calendar and an SLA policy; its tickets are
written in bulk, as `domain.tickets` leaves them (each with its policy's targets and calendar
copied on, a mix of priorities and statuses, some paused in Pending), so the figure is the
list's and not the loading's. An admin then asks the API, in-process, for the newest 50 open
(New, Open, Pending) URGENT tickets with each clock's due time and seconds left, which the API
computes from the row by `domain.business_time`. Before timing, the page must be exactly the
tickets the hand SQL finds; anything else is a `BenchmarkError`.

"By priority" here is the filter a support queue view uses (one priority, newest first); the
list ordered by priority (`orderBy: {field: PRIORITY}`) is tested in
`tests/e2e/test_tickets_api.py`, not timed here.
"""

from __future__ import annotations

import dataclasses
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from strawberry import relay
from tortoise import Tortoise

from bench.client import BenchmarkError, graphql, sign_in
from bench.timings import Timing, timing
from db.tickets import Ticket
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.business_time import BusinessCalendar
from domain.service_levels import publish_sla_policy, targets_for

TICKETS = 10_000
PAGE = 50
BATCH = 1_000
DESK_EMAIL = "admin@desk.bench.example.com"
DESK_PASSWORD = "desk bench password"
PRIORITIES = ("low", "normal", "high", "urgent")
# Most tickets of a desk are done; the open ones are what the queue shows.
STATUSES = ("new", "open", "open", "pending", "resolved", "closed", "closed", "closed")
OPEN = ("new", "open", "pending")
QUEUE = """
query Queue($first: Int!) {
  tickets(first: $first, filter: {statusIn: [NEW, OPEN, PENDING], priorityIn: [URGENT]}) {
    edges { node { id subject status sla { name dueAt secondsLeft paused } } }
  }
}"""


@dataclass(frozen=True)
class TicketListResult:
    tickets: int
    open_urgent: int  # tickets the queue's filter matches
    rows: int  # on the page
    load_seconds: float
    latency: Timing


async def _load(agency_id: UUID, count: int, seed: int = 14) -> tuple[int, list[str]]:
    """`count` tickets, one a minute up to now; how many are open and urgent, and the ids of
    the newest `PAGE` of them (newest first)."""
    rng = random.Random(seed)
    system = Actor.system(agency_id, "bench")
    targets = [
        {"priority": p, "first_response_minutes": 60 * n, "resolution_minutes": 480 * n}
        for n, p in enumerate(reversed(PRIORITIES), start=1)
    ]
    policy = await publish_sla_policy(system, {"targets": targets})
    calendar = dataclasses.asdict(BusinessCalendar())
    now = datetime.now(UTC)
    start = now - timedelta(minutes=count)
    open_urgent: list[tuple[datetime, str]] = []
    rows: list[Ticket] = []
    for n in range(count):
        created = start + timedelta(minutes=n)
        priority, status = rng.choice(PRIORITIES), rng.choice(STATUSES)
        chosen = targets_for(policy, priority, "")
        ticket = Ticket(
            id=uuid4(),
            agency_id=agency_id,
            subject=f"Ticket {n}",
            priority=priority,
            status=status,
            created_at=created,
            updated_at=created,
            sla_policy_version=policy.version,
            sla_calendar=calendar,
            sla_warning_share=policy.warning_share,
            first_response_target=chosen.first_response,
            resolution_target=chosen.resolution,
            sla_paused_since=created + timedelta(minutes=5) if status == "pending" else None,
        )
        ticket.refresh_priority_rank()  # what `save` does, which bulk inserts skip
        rows.append(ticket)
        if priority == "urgent" and status in OPEN:
            open_urgent.append((created, str(ticket.id)))
    for first in range(0, len(rows), BATCH):
        await Ticket.bulk_create(rows[first : first + BATCH])
    newest = [ticket_id for _, ticket_id in sorted(open_urgent, reverse=True)[:PAGE]]
    return len(open_urgent), newest


async def _ids_by_sql(agency_id: UUID) -> list[str]:
    connection = Tortoise.get_connection("default")
    found = await (
        Ticket.filter(
            agency_id=agency_id, status__in=OPEN, priority="urgent", deleted_at__isnull=True
        )
        .using_db(connection)
        .order_by("-created_at", "-id")
        .limit(PAGE)
        .values_list("id", flat=True)
    )
    return [str(ticket_id) for ticket_id in found]


def _page_ids(data: dict[str, Any]) -> list[str]:
    edges = data["tickets"]["edges"]
    for edge in edges:
        if not edge["node"]["sla"]:
            raise BenchmarkError(f"ticket {edge['node']['id']} shows no SLA clock")
    return [relay.GlobalID.from_id(edge["node"]["id"]).node_id for edge in edges]


async def ticket_list_benchmark(
    client: httpx.AsyncClient, tickets: int, repetitions: int, warmup: int
) -> TicketListResult:
    """Load the desk's tickets (Tortoise open on the app's database) and time the queue page
    through `client` (the app, in-process)."""
    agency, _, _ = await bootstrap_agency(
        "Bench Desk", "bench-desk", DESK_EMAIL, "Desk Admin", DESK_PASSWORD
    )
    started = time.perf_counter()
    open_urgent, newest = await _load(agency.id, tickets)
    load_seconds = time.perf_counter() - started
    token = await sign_in(client, DESK_EMAIL, DESK_PASSWORD)

    async def page() -> list[str]:
        return _page_ids(await graphql(client, QUEUE, {"first": PAGE}, token))

    shown, by_sql = await page(), await _ids_by_sql(agency.id)
    if shown != by_sql or shown != newest:
        raise BenchmarkError(
            f"the open urgent tickets page differs: API {shown[:3]}..., SQL {by_sql[:3]}..."
        )
    for _ in range(warmup):
        await page()
    times: list[float] = []
    for _ in range(repetitions):
        sent = time.perf_counter()
        await page()
        times.append(time.perf_counter() - sent)
    return TicketListResult(
        tickets=tickets,
        open_urgent=open_urgent,
        rows=len(shown),
        load_seconds=round(load_seconds, 2),
        latency=timing(times),
    )
