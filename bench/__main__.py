"""`python -m bench` (`make bench`): run the benchmark, print a table, write JSON."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.benchmark import Backend, DatabaseResult, Options, benchmark_database
from bench.dashboard_load import DashboardResult, dashboard_benchmark, dashboard_table
from bench.report import (
    RESULTS_DIR,
    broadcast_table,
    duplicate_table,
    floor_table,
    goals_table,
    import_table,
    keyset_table,
    sign_up_table,
    table,
    ticket_table,
    write_json,
    write_table,
)
from db.connection import database, migrate
from db.throwaway_postgres import throwaway_postgres

BENCH_DATABASE = "crm_bench"


def run_sqlite(options: Options, workdir: Path) -> DatabaseResult:
    url = f"sqlite://{workdir / 'bench.sqlite3'}"
    return asyncio.run(benchmark_database("sqlite", url, options, workdir))


def run_postgres(options: Options, workdir: Path) -> DatabaseResult:
    with throwaway_postgres() as cluster:

        async def run() -> DatabaseResult:
            await cluster.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
            return await benchmark_database(
                "postgres", cluster.url(BENCH_DATABASE), options, workdir
            )

        return asyncio.run(run())


def run_dashboards(contacts: int, deals: int, tickets: int, repetitions: int) -> DashboardResult:
    with throwaway_postgres() as cluster:

        async def run() -> DashboardResult:
            await cluster.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
            url = cluster.url(BENCH_DATABASE)
            await migrate(url)
            async with database(url):
                return await dashboard_benchmark(contacts, deals, tickets, repetitions)

        return asyncio.run(run())


def parse_dashboards(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench dashboards", description="Dashboard queries at scale (PostgreSQL)."
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--deals", type=int, default=200_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=20)
    return parser.parse_args(argv)


def parse(argv: Sequence[str] | None) -> tuple[Options, list[Backend]]:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--contacts", type=int, default=defaults.contacts)
    parser.add_argument(
        "--database", choices=["sqlite", "postgres", "both"], default="both", dest="database"
    )
    parser.add_argument("--repetitions", type=int, default=defaults.repetitions)
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="of load")
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument(
        "--api-workers",
        type=int,
        default=defaults.api_workers,
        help="processes of `crm serve --workers` measured beside one (default: the cores)",
    )
    parser.add_argument(
        "--write-seconds", type=float, default=defaults.write_seconds, help="per writer count"
    )
    parser.add_argument(
        "--writers",
        type=int,
        nargs="+",
        default=list(defaults.writers),
        help="concurrent writers, one run each",
    )
    parser.add_argument(
        "--broadcast-recipients",
        type=int,
        default=defaults.broadcast_recipients,
        help="contacts a broadcast is sent to (0 skips it)",
    )
    parser.add_argument(
        "--sign-up-seconds",
        type=float,
        default=defaults.sign_up_seconds,
        help="of public campaign sign-ups (0 skips them)",
    )
    parser.add_argument("--sign-up-clients", type=int, default=defaults.sign_up_clients)
    parser.add_argument(
        "--tickets",
        type=int,
        default=defaults.tickets,
        help="tickets of the service desk's queue page (0 skips it)",
    )
    parser.add_argument(
        "--keyset-sizes",
        type=int,
        nargs="*",
        default=list(defaults.keyset_sizes),
        help="contacts of the PostgreSQL keyset page, grown in turn (none skips it)",
    )
    parser.add_argument("--keyset-repetitions", type=int, default=defaults.keyset_repetitions)
    parser.add_argument(
        "--keyset-value-table-repetitions",
        type=int,
        default=defaults.keyset_value_table_repetitions,
        help="the custom field's ordering before it is sortable, first size only (0 skips it)",
    )
    parser.add_argument(
        "--sleeping-runs",
        type=int,
        default=defaults.sleeping_runs,
        help="flow runs asleep at once on one worker, in the SQLite run (0 skips them)",
    )
    parser.add_argument(
        "--sla-tickets",
        type=int,
        default=defaults.sla_tickets,
        help="tickets whose SLA clocks run at once on one worker, in the SQLite run (0 skips them)",
    )
    parser.add_argument(
        "--subscribers",
        type=int,
        default=defaults.subscribers,
        help="live subscribers on one API process, and on two on PostgreSQL (0 skips them)",
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        default=defaults.import_rows,
        help="rows of each imported file, CSV and XLSX (0 skips them)",
    )
    parser.add_argument(
        "--duplicate-contacts",
        type=int,
        default=defaults.duplicate_contacts,
        help="contacts duplicate detection is timed among, on PostgreSQL (0 skips it)",
    )
    parser.add_argument("--duplicate-probes", type=int, default=defaults.duplicate_probes)
    args = parser.parse_args(argv)
    options = Options(
        contacts=args.contacts,
        repetitions=args.repetitions,
        seconds=args.seconds,
        concurrency=args.concurrency,
        api_workers=args.api_workers,
        write_seconds=args.write_seconds,
        writers=tuple(args.writers),
        broadcast_recipients=args.broadcast_recipients,
        sign_up_seconds=args.sign_up_seconds,
        sign_up_clients=args.sign_up_clients,
        tickets=args.tickets,
        keyset_sizes=tuple(args.keyset_sizes),
        keyset_repetitions=args.keyset_repetitions,
        keyset_value_table_repetitions=args.keyset_value_table_repetitions,
        sleeping_runs=args.sleeping_runs,
        sla_tickets=args.sla_tickets,
        subscribers=args.subscribers,
        import_rows=args.import_rows,
        duplicate_contacts=args.duplicate_contacts,
        duplicate_probes=args.duplicate_probes,
    )
    backends: list[Backend] = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    return options, backends


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["dashboards"]:
        args = parse_dashboards(arguments[1:])
        sys.stderr.write(
            f"postgres: loading {args.contacts:,} contacts, {args.deals:,} deals, "
            f"{args.tickets:,} tickets...\n"
        )
        found = run_dashboards(args.contacts, args.deals, args.tickets, args.repetitions)
        sys.stdout.write(dashboard_table(found) + "\n")
        return 0
    options, backends = parse(arguments)
    results: list[DatabaseResult] = []
    for backend in backends:
        sys.stderr.write(f"{backend}: loading {options.contacts:,} contacts...\n")
        with tempfile.TemporaryDirectory(prefix=f"crm-bench-{backend}-") as folder:
            run = run_sqlite if backend == "sqlite" else run_postgres
            results.append(run(options, Path(folder)))
    tables = [
        table(results),
        floor_table(results),
        write_table(results),
        broadcast_table(results),
        sign_up_table(results),
        ticket_table(results),
        keyset_table(results),
        goals_table(results),
        import_table(results),
        duplicate_table(results),
    ]
    sys.stdout.write("\n\n".join(tables) + "\n")
    sys.stdout.write(f"written to {write_json(options, results, RESULTS_DIR)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
