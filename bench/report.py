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
            f"{r.load.requests_per_second:.1f}",
            f"{r.load.latency.median_ms:.0f} / {r.load.latency.p95_ms:.0f}",
            f"{r.load_workers.requests_per_second:.1f} ({r.api_workers})",
            str(r.load.failures + r.load_workers.failures),
        )
        for r in results
    ]
    return _aligned(rows)


def _p50_p95(load: LoadResult) -> str:
    return f"{load.latency.median_ms:.1f} / {load.latency.p95_ms:.1f}"


def floor_table(results: Sequence[DatabaseResult]) -> str:
    """The smallest signed-in read on one process against a bare Strawberry app's."""
    rows = [FLOOR_HEADER] + [
        (
            r.database,
            f"{r.floor.one_contact.requests_per_second:.0f}",
            _p50_p95(r.floor.one_contact),
            f"{r.floor.hello.requests_per_second:.0f}",
            _p50_p95(r.floor.hello),
            f"{r.floor.ratio:.0%}",
            str(r.floor.one_contact.failures + r.floor.hello.failures),
        )
        for r in results
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
