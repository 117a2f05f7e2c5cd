"""One benchmark run on one database: migrate, load, check both queries agree, time them
in-process, measure requests per second over loopback, then concurrent writes with the worker
running, then a broadcast into an SMTP sink, then public campaign sign-ups; and the service desk's
queue page among 10,000 tickets, and 10,000 tickets' SLA clocks on one worker."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from bench.broadcast_load import RECIPIENTS, BroadcastResult, broadcast_benchmark
from bench.client import BenchmarkError, contacts_page, sign_in
from bench.concurrent_load import UNREACHABLE_TEMPORAL, LoadResult, load_test
from bench.duplicate_load import CONTACTS as DUPLICATE_CONTACTS
from bench.duplicate_load import PROBES as DUPLICATE_PROBES
from bench.duplicate_load import DuplicateResult, duplicate_benchmark
from bench.floor import FloorResult, floor_test
from bench.import_load import ROWS as IMPORT_ROWS
from bench.import_load import ImportLoadResult, import_benchmark
from bench.keyset_scale import (
    SIZES,
    VALUE_TABLE_REPETITIONS,
    KeysetScaleResult,
    keyset_scale_benchmark,
)
from bench.load import ADMIN_EMAIL, ADMIN_PASSWORD, load
from bench.queries import PAGE_SIZE, Row, contacts_by_sql, rows_from_graphql
from bench.sign_up_load import CLIENTS, SECONDS, SignUpLoadResult, sign_up_benchmark
from bench.sla_timers import SLA_TICKETS, SlaTimersResult, sla_timers_benchmark
from bench.sleeping_flows import SLEEPING_RUNS, SleepingFlowsResult, sleeping_flows_benchmark
from bench.subscriber_load import SUBSCRIBERS, SubscriberResult, subscriber_benchmark
from bench.ticket_load import TICKETS, TicketListResult, ticket_list_benchmark
from bench.timings import Timing, timing
from bench.write_load import WRITER_COUNTS, WriteLoadResult, write_benchmark
from crm.app import create_app
from crm.settings import Settings
from db.connection import migrate

Backend = Literal["sqlite", "postgres"]


@dataclass(frozen=True)
class Options:
    contacts: int = 100_000
    repetitions: int = 100
    warmup: int = 5
    seconds: float = 20.0
    concurrency: int = 16
    # `crm serve --workers N` measured beside one process: one per core by default.
    api_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    write_seconds: float = 15.0
    writers: tuple[int, ...] = WRITER_COUNTS
    broadcast_recipients: int = RECIPIENTS  # 0 skips the broadcast benchmark
    sign_up_seconds: float = SECONDS  # 0 skips the public sign-up benchmark
    sign_up_clients: int = CLIENTS
    tickets: int = TICKETS  # 0 skips the ticket list benchmark
    # PostgreSQL only: the filtered keyset page at each size in turn (() skips it).
    keyset_sizes: tuple[int, ...] = SIZES
    keyset_repetitions: int = 200
    # The custom field's ordering before it is sortable, at the first size (0 skips it).
    keyset_value_table_repetitions: int = VALUE_TABLE_REPETITIONS
    # SQLite only (the flows figure is the worker's and Temporal's, measured once): flow runs
    # asleep at once on one worker (0 skips it).
    sleeping_runs: int = SLEEPING_RUNS
    # SQLite only, like the sleeping flows: tickets whose SLA clocks run at once on one worker,
    # opened through the ticket service (0 skips it).
    sla_tickets: int = SLA_TICKETS
    # Live subscribers on one API process (and on two, on PostgreSQL) (0 skips them).
    subscribers: int = SUBSCRIBERS
    import_rows: int = IMPORT_ROWS  # rows of each file (CSV, XLSX); 0 skips the import benchmark
    # Duplicate detection per record among this many contacts (0 skips it), on these databases.
    duplicate_contacts: int = DUPLICATE_CONTACTS
    duplicate_probes: int = DUPLICATE_PROBES
    duplicate_databases: tuple[str, ...] = ("postgres",)
    # The phases that start `crm serve` and `crm worker` processes (pages/s, the floor, writes,
    # the broadcast, sign-ups) on these databases; the in-suite run keeps them to one, where
    # most of its time was starting processes.
    served_databases: tuple[str, ...] = ("sqlite", "postgres")


@dataclass(frozen=True)
class DatabaseResult:
    database: Backend
    contacts: int
    load_seconds: float
    rows: int
    matched: bool
    graphql: Timing
    sql: Timing
    ratio: float
    load: LoadResult | None  # None: not served on this database (`served_databases`)
    api_workers: int
    load_workers: LoadResult | None  # the same load on `crm serve --workers api_workers`
    floor: FloorResult | None
    writes: list[WriteLoadResult]
    broadcast: BroadcastResult | None
    sign_ups: SignUpLoadResult | None
    imports: ImportLoadResult | None
    keyset: KeysetScaleResult | None
    sleeping_flows: SleepingFlowsResult | None
    subscribers: list[SubscriberResult]
    tickets: TicketListResult | None = None
    duplicates: DuplicateResult | None = None
    sla_timers: SlaTimersResult | None = None


def first_difference(graphql: list[Row], sql: list[Row]) -> str:
    if len(graphql) != len(sql):
        return f"GraphQL returned {len(graphql)} rows, SQL {len(sql)}"
    for n, (left, right) in enumerate(zip(graphql, sql, strict=True)):
        if left != right:
            return f"row {n}: GraphQL {left} != SQL {right}"
    return "none"


async def _time(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def benchmark_database(
    backend: Backend, database_url: str, options: Options, workdir: Path
) -> DatabaseResult:
    """The whole benchmark on one empty database (migrated here, as `crm migrate` does)."""
    async with TortoiseContext():
        await migrate(database_url)
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        data_dir=workdir,
        temporal_address=UNREACHABLE_TEMPORAL,
        # One user measuring the API's capacity goes far past one caller's allowance a minute.
        rate_requests_per_minute=0,
        rate_cost_per_minute=0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        with app.state.database:
            started = time.perf_counter()
            loaded = await load(options.contacts)
            load_seconds = time.perf_counter() - started
            connection = Tortoise.get_connection("default")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                token = await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)

                async def by_graphql() -> list[Row]:
                    return rows_from_graphql(await contacts_page(client, token))

                async def by_sql() -> list[Row]:
                    return await contacts_by_sql(connection, loaded.agency_id)

                graphql_rows, sql_rows = await by_graphql(), await by_sql()
                if graphql_rows != sql_rows or len(sql_rows) != min(PAGE_SIZE, loaded.visible):
                    raise BenchmarkError(
                        f"{backend}: the GraphQL and SQL pages differ: "
                        f"{first_difference(graphql_rows, sql_rows)}"
                    )
                for _ in range(options.warmup):
                    await by_graphql()
                    await by_sql()
                # Interleaved, so a slow moment of the machine costs both alike.
                graphql_times: list[float] = []
                sql_times: list[float] = []
                for _ in range(options.repetitions):
                    graphql_times.append(await _time(by_graphql))
                    sql_times.append(await _time(by_sql))
                ticket_list = (
                    await ticket_list_benchmark(
                        client, options.tickets, options.repetitions, options.warmup
                    )
                    if options.tickets
                    else None
                )
    served = backend in options.served_databases
    under_load = (
        await load_test(database_url, workdir, options.seconds, options.concurrency)
        if served
        else None
    )
    under_load_workers = (
        await load_test(
            database_url, workdir, options.seconds, options.concurrency, options.api_workers
        )
        if served
        else None
    )
    floor = (
        await floor_test(database_url, workdir, options.seconds, options.concurrency)
        if served
        else None
    )
    writes = (
        await write_benchmark(
            database_url,
            workdir,
            ADMIN_EMAIL,
            ADMIN_PASSWORD,
            options.write_seconds,
            options.writers,
        )
        if served
        else []
    )
    broadcast = (
        await broadcast_benchmark(database_url, workdir, options.broadcast_recipients)
        if served and options.broadcast_recipients
        else None
    )
    sign_ups = (
        await sign_up_benchmark(
            database_url, workdir, options.sign_up_seconds, options.sign_up_clients
        )
        if served and options.sign_up_seconds
        else None
    )
    # Last: it grows the database by an agency of a million contacts.
    keyset = (
        await keyset_scale_benchmark(
            database_url,
            options.keyset_sizes,
            options.keyset_repetitions,
            options.keyset_value_table_repetitions,
        )
        if backend == "postgres" and options.keyset_sizes
        else None
    )
    subscribers = [
        await subscriber_benchmark(
            database_url, workdir, ADMIN_EMAIL, ADMIN_PASSWORD, options.subscribers, api_workers=n
        )
        for n in ((1, 2) if backend == "postgres" else (1,))
        if options.subscribers
    ]
    sleeping_flows = (
        await sleeping_flows_benchmark(workdir, options.sleeping_runs)
        if backend == "sqlite" and options.sleeping_runs
        else None
    )
    sla_timers = (
        await sla_timers_benchmark(workdir, options.sla_tickets)
        if backend == "sqlite" and options.sla_tickets
        else None
    )
    imported = (
        await import_benchmark(database_url, workdir, options.import_rows)
        if options.import_rows
        else None
    )
    duplicates = (
        await duplicate_benchmark(
            database_url, options.duplicate_contacts, options.duplicate_probes
        )
        if options.duplicate_contacts and backend in options.duplicate_databases
        else None
    )
    graphql, sql = timing(graphql_times), timing(sql_times)
    return DatabaseResult(
        database=backend,
        contacts=options.contacts,
        load_seconds=round(load_seconds, 2),
        rows=len(sql_rows),
        matched=True,
        graphql=graphql,
        sql=sql,
        ratio=round(graphql.median_ms / sql.median_ms, 2),
        load=under_load,
        api_workers=options.api_workers,
        load_workers=under_load_workers,
        floor=floor,
        writes=writes,
        broadcast=broadcast,
        sign_ups=sign_ups,
        tickets=ticket_list,
        keyset=keyset,
        sleeping_flows=sleeping_flows,
        subscribers=subscribers,
        imports=imported,
        duplicates=duplicates,
        sla_timers=sla_timers,
    )
