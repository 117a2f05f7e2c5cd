"""The benchmark's results as a table for people and a JSON file for later comparison."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.benchmark import DatabaseResult, Options
from bench.concurrent_load import LoadResult
from bench.sla_timers import SlaTimersResult

RESULTS_DIR = Path(__file__).resolve().parent / "results"

HEADER = (
    "database",
    "contacts",
    "load s",
    "GraphQL p50/p95 ms",
    "SQL p50/p95 ms",
    "ratio",
    "req/s 1 proc",
    "load p50/p95 ms",
    "req/s N proc",
    "failed",
)


FLOOR_HEADER = (
    "database",
    "contact(id) req/s",
    "p50/p95 ms",
    "bare { hello } req/s",
    "p50/p95 ms",
    "ratio",
    "failed",
)


WRITE_HEADER = (
    "database",
    "writers",
    "writes/s",
    "write p50/p95 ms",
    "createContact p50/p95 ms",
    "busy",
    "failed",
)


BROADCAST_HEADER = (
    "database",
    "recipients",
    "messages/s",
    "raw SMTP/s",
    "ratio",
    "worker peak MiB",
    "restart: stopped at",
    "duplicates",
)


SIGN_UP_HEADER = (
    "database",
    "clients",
    "sign-ups/s",
    "sign-up p50/p95 ms",
    "people",
    "views",
    "enrolments",
    "exact",
)

DUPLICATE_HEADER = (
    "database",
    "contacts",
    "keys",
    "load s",
    "probes",
    "one record p50/p95 ms",
    "batch ms/record",
    "precision",
    "recall",
)


def _aligned(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def write_table(results: Sequence[DatabaseResult]) -> str:
    """Concurrent writes (create, update, mark Hot) with the worker running."""
    rows = [WRITE_HEADER] + [
        (
            r.database,
            str(w.writers),
            f"{w.writes_per_second:.1f}",
            f"{w.latency.median_ms:.0f} / {w.latency.p95_ms:.0f}",
            f"{w.create_latency.median_ms:.0f} / {w.create_latency.p95_ms:.0f}",
            str(w.busy),
            str(w.failures),
        )
        for r in results
        for w in r.writes
    ]
    return _aligned(rows)


def broadcast_table(results: Sequence[DatabaseResult]) -> str:
    """A broadcast into an SMTP sink, against raw SMTP sends to the same sink."""
    rows = [BROADCAST_HEADER] + [
        (
            r.database,
            f"{b.recipients:,}",
            f"{b.messages_per_second:.0f}",
            f"{b.smtp_baseline_per_second:.0f}",
            f"{b.ratio:.2f}",
            f"{b.worker_peak_mib:.0f}" if b.worker_peak_mib is not None else "n/a",
            f"{b.restarted_at:,}",
            str(b.duplicates),
        )
        for r in results
        if (b := r.broadcast) is not None
    ]
    return _aligned(rows) if len(rows) > 1 else "(no broadcast benchmark)"


IMPORT_HEADER = ("database", "rows a file", "CSV rows/s", "XLSX rows/s", "contacts", "exact")


def import_table(results: Sequence[DatabaseResult]) -> str:
    """A CSV and an XLSX file of new contacts imported whole, and whether every row arrived."""
    rows = [IMPORT_HEADER] + [
        (
            r.database,
            f"{i.rows:,}",
            f"{i.csv_rows_per_second:,.0f}",
            f"{i.xlsx_rows_per_second:,.0f}",
            f"{i.contacts_created:,}",
            "yes" if i.exact else "NO",
        )
        for r in results
        if (i := r.imports) is not None
    ]
    return _aligned(rows) if len(rows) > 1 else "(no import benchmark)"


def sign_up_table(results: Sequence[DatabaseResult]) -> str:
    """Public campaign sign-ups on one API process, and whether the counters were exact."""
    rows = [SIGN_UP_HEADER] + [
        (
            r.database,
            str(u.clients),
            f"{u.sign_ups_per_second:.1f}",
            f"{u.latency.median_ms:.0f} / {u.latency.p95_ms:.0f}",
            f"{u.people:,}",
            f"{u.views:,}",
            f"{u.enrolments:,}",
            "yes" if u.exact else "NO",
        )
        for r in results
        if (u := r.sign_ups) is not None
    ]
    return _aligned(rows) if len(rows) > 1 else "(no sign-up benchmark)"


TICKET_HEADER = ("database", "tickets", "open urgent", "page rows", "queue page p50/p95 ms")


def ticket_table(results: Sequence[DatabaseResult]) -> str:
    """The service desk's queue page: open urgent tickets with their SLA time left."""
    rows = [TICKET_HEADER] + [
        (
            r.database,
            f"{t.tickets:,}",
            f"{t.open_urgent:,}",
            str(t.rows),
            f"{t.latency.median_ms:.1f} / {t.latency.p95_ms:.1f}",
        )
        for r in results
        if (t := r.tickets) is not None
    ]
    return _aligned(rows) if len(rows) > 1 else "(no ticket benchmark)"


def duplicate_table(results: Sequence[DatabaseResult]) -> str:
    """Duplicate detection: time per record among many contacts, one at a time and batched."""
    rows = [DUPLICATE_HEADER] + [
        (
            r.database,
            f"{d.contacts:,}",
            f"{d.keys:,}",
            f"{d.load_seconds:.0f}",
            str(d.probes),
            f"{d.one_at_a_time.median_ms:.1f} / {d.one_at_a_time.p95_ms:.1f}",
            f"{d.batch_ms_per_record:.2f}",
            f"{d.precision:.3f}",
            f"{d.recall:.3f}",
        )
        for r in results
        if (d := r.duplicates) is not None
    ]
    return _aligned(rows) if len(rows) > 1 else "(no duplicate benchmark)"


def table(results: Sequence[DatabaseResult]) -> str:
    rows = [HEADER] + [
        (
            r.database,
            f"{r.contacts:,}",
            f"{r.load_seconds:.1f}",
            f"{r.graphql.median_ms:.1f} / {r.graphql.p95_ms:.1f}",
            f"{r.sql.median_ms:.2f} / {r.sql.p95_ms:.2f}",
            f"{r.ratio:.1f}x",
            *_served_cells(r),
        )
        for r in results
    ]
    return _aligned(rows)


def _served_cells(r: DatabaseResult) -> tuple[str, ...]:
    """The page under load, or dashes where the served phases did not run."""
    if r.load is None or r.load_workers is None:
        return ("-", "-", "-", "-")
    return (
        f"{r.load.requests_per_second:.1f}",
        f"{r.load.latency.median_ms:.0f} / {r.load.latency.p95_ms:.0f}",
        f"{r.load_workers.requests_per_second:.1f} ({r.api_workers})",
        str(r.load.failures + r.load_workers.failures),
    )


def _p50_p95(load: LoadResult) -> str:
    return f"{load.latency.median_ms:.1f} / {load.latency.p95_ms:.1f}"


def floor_table(results: Sequence[DatabaseResult]) -> str:
    """The smallest signed-in read on one process against a bare Strawberry app's."""
    rows = [FLOOR_HEADER] + [
        (
            r.database,
            f"{f.one_contact.requests_per_second:.0f}",
            _p50_p95(f.one_contact),
            f"{f.hello.requests_per_second:.0f}",
            _p50_p95(f.hello),
            f"{f.ratio:.0%}",
            str(f.one_contact.failures + f.hello.failures),
        )
        for r in results
        if (f := r.floor) is not None
    ]
    return _aligned(rows)


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def write_json(options: Options, results: Sequence[DatabaseResult], folder: Path) -> Path:
    """bench/results/<UTC time>.json (the folder is not committed)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = folder / f"{now:%Y%m%dT%H%M%SZ}.json"
    document = {
        "at": now.isoformat(),
        "machine": machine(),
        "options": asdict(options),
        "results": [asdict(r) for r in results],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


KEYSET_HEADER = (
    "ordering",
    "page",
    "contacts",
    "matching",
    "p50 ms",
    "p99 ms",
    "goal p99 ms",
)


def keyset_table(results: Sequence[DatabaseResult]) -> str:
    """The filtered keyset page (status, tag, owner) at each size, on PostgreSQL."""
    scaled = [k for r in results if (k := r.keyset) is not None]
    if not scaled:
        return "(no keyset page benchmark)"
    lines: list[str] = []
    for k in scaled:
        rows = [KEYSET_HEADER] + [
            (
                t.ordering,
                t.page,
                f"{t.contacts:,}",
                f"{t.matching:,}",
                f"{t.median_ms:.1f}",
                f"{t.p99_ms:.1f}",
                f"< {k.goal_p99_ms:.0f}",
            )
            for t in [*k.value_table, *k.timings]
        ]
        lines.append(_aligned(rows))
        lines.append(
            f"sort keys filled for {k.sizes[0]:,} contacts (the field marked sortable) in "
            f"{k.fill_seconds:.1f} s; the value table's rows are before, outside the goal"
        )
        lines += [f"indexes in the plan ({o}): {', '.join(i)}" for o, i in k.indexes_used.items()]
        lines += [f"  {name}: {definition}" for name, definition in k.index_definitions.items()]
        lines.append(f"worst p99 at {k.sizes[-1]:,} over {k.sizes[0]:,}: {k.growth():.2f}x")
    return "\n".join(lines)


GOALS_HEADER = ("figure (issue 17)", "database", "measured", "baseline", "goal", "met")
# The issue's own measurements (one `make bench` run before the read-path work), by database.
BASELINE_RATIO = {"sqlite": 16.9, "postgres": 10.7}
BASELINE_P95_OVER_P50 = {"sqlite": 137.5 / 36.7, "postgres": 149.6 / 33.2}
BASELINE_PAGES_PER_SECOND = {"sqlite": 18.0, "postgres": 20.0}
GOAL_RATIO = {"sqlite": 5.0, "postgres": 4.0}
KEYSET_GROWTH_GOAL = 1.5  # "does not grow": within the noise of a shared machine


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def goals_table(results: Sequence[DatabaseResult]) -> str:
    """Every figure issue 17 asks for, with its baseline and its goal, in one table."""
    rows: list[tuple[str, ...]] = [GOALS_HEADER]
    for r in results:
        db = r.database
        spread = r.graphql.p95_ms / r.graphql.median_ms
        rows += [
            (
                "page of 100: GraphQL / hand SQL p50",
                db,
                f"{r.ratio:.1f}x",
                f"{BASELINE_RATIO[db]}x",
                f"<= {GOAL_RATIO[db]:.0f}x",
                _met(r.ratio <= GOAL_RATIO[db]),
            ),
            (
                "page of 100: p95 / p50",
                db,
                f"{spread:.1f}x",
                f"{BASELINE_P95_OVER_P50[db]:.1f}x",
                "<= 2x",
                _met(spread <= 2),
            ),
        ]
        if r.load is not None and r.load_workers is not None and r.floor is not None:
            rows += [
                (
                    "pages/s, 16 clients, 1 process",
                    db,
                    f"{r.load.requests_per_second:.1f}",
                    f"{BASELINE_PAGES_PER_SECOND[db]:.0f}",
                    ">= 60",
                    _met(r.load.requests_per_second >= 60),
                ),
                (
                    f"pages/s, 16 clients, {r.api_workers} processes",
                    db,
                    f"{r.load_workers.requests_per_second:.1f}",
                    "",
                    "every core used",
                    "",
                ),
                (
                    "contact(id) / bare { hello } req/s",
                    db,
                    f"{r.floor.ratio:.0%}",
                    "20%",
                    ">= 50%",
                    _met(r.floor.ratio >= 0.5),
                ),
            ]
        rows += [
            (
                f"createContact p50 / p95, {w.writers} writers",
                db,
                f"{w.create_latency.median_ms:.0f} / {w.create_latency.p95_ms:.0f} ms",
                "",
                "reported",
                "",
            )
            for w in r.writes
        ]
        if (k := r.keyset) is not None:
            rows += [
                (
                    f"keyset page p99, {size:,} contacts (worst ordering)",
                    db,
                    f"{k.worst_p99_ms(size):.1f} ms",
                    "",
                    f"< {k.goal_p99_ms:.0f} ms",
                    _met(k.worst_p99_ms(size) < k.goal_p99_ms),
                )
                for size in k.sizes
            ]
            rows.append(
                (
                    f"keyset page p99 growth, {k.sizes[0]:,} to {k.sizes[-1]:,}",
                    db,
                    f"{k.growth():.2f}x",
                    "",
                    f"<= {KEYSET_GROWTH_GOAL}x",
                    _met(k.growth() <= KEYSET_GROWTH_GOAL),
                )
            )
        if (f := r.sleeping_flows) is not None:
            rows += [
                (
                    f"worker memory, {f.runs:,} flow runs asleep",
                    db,
                    f"{f.worker_asleep_mib} MiB ({f.kib_per_run} KiB a run), peak "
                    f"{f.worker_peak_mib} MiB",
                    f"idle {f.worker_idle_mib} MiB",
                    "reported",
                    "",
                ),
                (
                    f"timer lateness p50 / p99, {f.sampled:,} of the runs",
                    db,
                    f"{f.late_p50_ms:.0f} / {f.late_p99_ms:.0f} ms",
                    "",
                    "reported",
                    _met(f.completed == f.sampled),
                ),
            ]
        if (t := r.sla_timers) is not None:
            rows += sla_timer_rows(db, t)
        rows += [
            (
                f"{s.subscribers:,} subscribers, {s.api_workers} process(es): delivery p50 / p99",
                db,
                f"{s.p50_ms:.0f} / {s.p99_ms:.0f} ms ({s.kib_per_subscriber} KiB each, "
                f"server CPU {s.server_cpu_us_per_delivery} us a delivery)",
                "",
                f"p99 < {s.goal_p99_ms:.0f} ms",
                _met(s.p99_ms < s.goal_p99_ms),
            )
            for s in r.subscribers
        ]
    return _aligned(rows)


def sla_timer_rows(db: str, t: SlaTimersResult) -> list[tuple[str, ...]]:
    """The SLA timer benchmark's lines of the goals table (SQLite's run only)."""
    return [
        (
            f"worker memory, {t.tickets:,} tickets' SLA clocks running",
            db,
            f"{t.worker_running_mib} MiB ({t.kib_per_ticket} KiB a ticket), peak "
            f"{t.worker_peak_mib} MiB; CPU {t.worker_cpu_ms_per_ticket} ms a ticket",
            f"idle {t.worker_idle_mib} MiB",
            "reported",
            "",
        ),
        (
            f"SLA warning lateness p50 / p99, {t.warnings.count:,} warnings "
            f"(at {t.warning_share:.0%} of {t.target_seconds:.0f} s)",
            db,
            f"{t.warnings.p50_ms:.0f} / {t.warnings.p99_ms:.0f} ms",
            "",
            "reported",
            "",
        ),
        (
            f"SLA breach lateness p50 / p99, {t.breaches.count:,} breaches "
            f"({t.tickets:,} opened in {t.open_seconds:.0f} s)",
            db,
            f"{t.breaches.p50_ms:.0f} / {t.breaches.p99_ms:.0f} ms",
            "",
            "reported",
            "",
        ),
    ]
