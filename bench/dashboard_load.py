"""The dashboards at scale, on PostgreSQL: contacts, deals and tickets are written by
`INSERT ... SELECT generate_series` (a million rows in seconds), then each dashboard query
is timed as each kind of viewer opens it (the domain call: every SQL statement it runs;
the HTTP and GraphQL layers add about a millisecond, measured by the main benchmark).

The inserts fire the summary triggers (`db/dashboard_counts.py`): the load time includes
keeping the summaries, as any write does.

Generated columns: every NOT NULL column without a database default gets a plain value of
its type, and the columns the dashboards read get values spread over a year, over 20 sales
people, and over every stage, status and priority.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

from bench.timings import Timing, timing
from db.pipelines import Stage
from db.users import User
from domain import agencies, dashboards, pipelines, users
from domain.actors import Actor
from domain.dashboards import Bucket, DashboardFilter
from domain.roles import Role

PEOPLE = 20
YEAR = DashboardFilter(date(2026, 1, 1), date(2026, 12, 31), Bucket.MONTH)
QUARTER_BY_WEEK = DashboardFilter(date(2026, 4, 1), date(2026, 6, 30), Bucket.WEEK)
_PLAIN = {
    "uuid": "gen_random_uuid()",
    "character varying": "''",
    "text": "''",
    "integer": "0",
    "smallint": "0",
    "bigint": "0",
    "numeric": "0",
    "double precision": "0",
    "real": "0",
    "boolean": "false",
    "jsonb": "'[]'::jsonb",
    "json": "'[]'::json",
    "timestamp with time zone": "now()",
    "date": "current_date",
    "tsvector": "''::tsvector",
}
# A minute of 2026 spread by i (7919 is prime: consecutive rows land far apart).
MOMENT = "(timestamptz '2026-01-01 00:00+00' + ((i::bigint * 7919) % 525600) * interval '1 minute')"


@dataclass(frozen=True)
class DashboardTiming:
    query: str
    viewer: str
    timing: Timing


@dataclass(frozen=True)
class DashboardResult:
    contacts: int
    deals: int
    tickets: int
    load_seconds: float
    timings: list[DashboardTiming]


async def _fill(
    connection: BaseDBAsyncClient, table: str, count: int, overrides: dict[str, str]
) -> None:
    columns = await connection.execute_query_dict(
        "SELECT column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_name = $1",
        [table],
    )
    names, values = [], []
    for column in columns:
        name = column["column_name"]
        if name in overrides:
            value = overrides[name]
        elif column["is_nullable"] == "YES" or column["column_default"] is not None:
            continue
        else:
            value = _PLAIN[column["data_type"]]
        names.append(f'"{name}"')
        values.append(value)
    await connection.execute_script(
        f"INSERT INTO {table} ({', '.join(names)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {count}) AS i"
    )


def _array(values: Sequence[Any], cast: str) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + f"]::{cast}[]"


def _pick(array: str, size: int, step: int = 1) -> str:
    return f"({array})[1 + ((i * {step}) % {size})]"


async def seed(contacts: int, deals: int, tickets: int) -> dict[str, Actor]:
    """The agency, its sales team and the records; the viewers to time, by name."""
    agency, admin, _ = await agencies.bootstrap_agency(
        "Dashboards", "dashboards", "admin@dash.example.com", "Admin", "bench-password-not-secret"
    )
    system = Actor.system(agency.id, "bench")
    sales = await agencies.create_org_unit(system, "Sales", None)
    west = await agencies.create_org_unit(system, "West", sales.id)
    # Written straight to the table: nobody signs in, so no password is hashed.
    team = [
        User(
            id=uuid4(),
            agency_id=agency.id,
            email=f"sales{index}@dash.example.com",
            name=f"Sales {index}",
            password_hash="-",
            roles=[Role.SALES_PERSON.value],
            org_unit_id=west.id if index < PEOPLE // 2 else sales.id,
        )
        for index in range(PEOPLE)
    ]
    head = User(
        id=uuid4(),
        agency_id=agency.id,
        email="head@dash.example.com",
        name="Head",
        password_hash="-",
        roles=[Role.SALES_HEAD.value],
        org_unit_id=west.id,
    )
    await User.bulk_create([*team, head])
    people = [person.id for person in team]
    pipeline = await pipelines.ensure_default_pipeline(agency.id)
    stages = await Stage.filter(pipeline_id=pipeline.id).order_by("position")
    owners = _array(people, "uuid")
    agency_id = f"'{agency.id}'::uuid"
    connection = Tortoise.get_connection("default")
    await _fill(
        connection,
        "contact",
        contacts,
        {
            "agency_id": agency_id,
            "first_name": "'Contact ' || i",
            "owner_id": _pick(owners, PEOPLE),
            "status": _pick(_array(["new", "hot", "cold", "converted"], "text"), 4, 7),
            "created_at": MOMENT,
            "updated_at": MOMENT,
        },
    )
    stage_ids = _array([s.id for s in stages], "uuid")
    kinds = _array([s.kind for s in stages], "text")
    await _fill(
        connection,
        "deal",
        deals,
        {
            "agency_id": agency_id,
            "name": "'Deal ' || i",
            "pipeline_id": f"'{pipeline.id}'::uuid",
            "stage_id": _pick(stage_ids, len(stages), 5),
            "status": _pick(kinds, len(stages), 5),
            "amount": "(i % 10000) + 0.5",
            "currency": "'EUR'",
            "expected_close_date": "date '2026-01-01' + ((i * 31) % 365)",
            "close_reason": _pick(_array(["price", "fit", "timing"], "text"), 3),
            "closed_at": f"CASE WHEN {_pick(kinds, len(stages), 5)} = 'open' THEN NULL "
            f"ELSE {MOMENT} + (i % 90) * interval '1 day' END",
            "owner_id": _pick(owners, PEOPLE, 7),
            "created_at": MOMENT,
            "updated_at": MOMENT,
            "competitors": "'[]'::jsonb",
            "tags": "'[]'::jsonb",
        },
    )
    await _fill(
        connection,
        "ticket",
        tickets,
        {
            "agency_id": agency_id,
            "subject": "'Ticket ' || i",
            "assignee_id": _pick(owners, PEOPLE, 11),
            "status": _pick(_array(["new", "open", "pending", "resolved", "closed"], "text"), 5),
            "priority": _pick(_array(["low", "normal", "high", "urgent"], "text"), 4, 3),
            "priority_rank": _pick("ARRAY[0, 1, 2, 3]", 4, 3),  # the priority's, as `save` keeps it
            "created_at": MOMENT,
            "updated_at": MOMENT,
            "first_response_at": f"{MOMENT} + (i % 48) * interval '1 hour'",
            "resolved_at": f"CASE WHEN i % 5 > 2 THEN {MOMENT} + (i % 96) * interval '1 hour' END",
            "resolution_target": "86400",
            "resolution_breached_at": f"CASE WHEN i % 7 = 0 THEN {MOMENT} + interval '1 day' END",
            "satisfaction_score": "CASE WHEN i % 5 = 0 THEN 1 + i % 5 END",
            "rated_at": f"CASE WHEN i % 5 = 0 THEN {MOMENT} + interval '2 days' END",
        },
    )
    # The dashboards read the summary tables the triggers of migration 0040 filled in.
    await connection.execute_script(
        "ANALYZE contact; ANALYZE deal; ANALYZE ticket; ANALYZE contact_day_count; "
        "ANALYZE deal_day_count; ANALYZE ticket_day_count"
    )

    async def viewer(user_id: UUID, roles: list[Role], org_unit: UUID | None) -> Actor:
        return Actor(
            agency_id=agency.id,
            id=f"user:{user_id}",
            user_id=user_id,
            roles=frozenset(roles),
            team=await users.team_of(user_id, agency.id, org_unit),
        )

    return {
        "admin": await viewer(admin.id, [Role.ADMIN], None),
        "sales head": await viewer(head.id, [Role.SALES_HEAD], west.id),
        "sales person": await viewer(people[0], [Role.SALES_PERSON], west.id),
    }


QUERIES: dict[str, tuple[Callable[[Actor, DashboardFilter], Awaitable[Any]], tuple[str, ...]]] = {
    "salesDashboard": (dashboards.sales_dashboard, ("sales person", "sales head", "admin")),
    "salesHeadDashboard": (dashboards.sales_head_dashboard, ("sales head", "admin")),
    "supportDashboard": (dashboards.support_dashboard, ("admin",)),
    "sysadminDashboard": (dashboards.sysadmin_dashboard, ("admin",)),
}


async def time_dashboards(
    viewers: dict[str, Actor], repetitions: int, warmup: int = 1
) -> list[DashboardTiming]:
    found = []
    for name, (query, who) in QUERIES.items():
        for viewer in who:
            for period, label in ((YEAR, "year by month"), (QUARTER_BY_WEEK, "quarter by week")):
                seconds = []
                for attempt in range(warmup + repetitions):
                    started = time.perf_counter()
                    await query(viewers[viewer], period)
                    if attempt >= warmup:
                        seconds.append(time.perf_counter() - started)
                found.append(DashboardTiming(f"{name} ({label})", viewer, timing(seconds)))
    return found


async def dashboard_benchmark(
    contacts: int, deals: int, tickets: int, repetitions: int, warmup: int = 1
) -> DashboardResult:
    """On the open (migrated, empty) database."""
    started = time.perf_counter()
    viewers = await seed(contacts, deals, tickets)
    load_seconds = time.perf_counter() - started
    timings = await time_dashboards(viewers, repetitions, warmup)
    return DashboardResult(contacts, deals, tickets, round(load_seconds, 1), timings)


def dashboard_table(result: DashboardResult) -> str:
    lines = [
        f"PostgreSQL: {result.contacts:,} contacts, {result.deals:,} deals, "
        f"{result.tickets:,} tickets (loaded in {result.load_seconds} s)",
        "",
        "| query | viewer | p50 ms | p95 ms |",
        "|---|---|---:|---:|",
    ]
    lines.extend(
        f"| {row.query} | {row.viewer} | {row.timing.median_ms:.1f} | {row.timing.p95_ms:.1f} |"
        for row in result.timings
    )
    return "\n".join(lines)
