"""The SLA timer benchmark at a tiny scale, so it cannot rot: 20 tickets opened through the
ticket service with a target of seconds, on its own Temporal dev server and `crm worker`; every
ticket is warned and breached once, after its due time, and the table shows the figures.
(About half a minute, most of it starting the server and the worker and the target itself.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bench.benchmark import Options
from bench.report import sla_timer_rows
from bench.sla_timers import sla_timers_benchmark

pytestmark = pytest.mark.temporal

TICKETS = 20
TARGET = timedelta(seconds=8)


async def test_the_sla_timer_benchmark_warns_and_breaches_every_ticket_once(
    tmp_path: Path,
) -> None:
    result = await sla_timers_benchmark(tmp_path, TICKETS, TARGET, warning_share=0.5)

    assert (result.tickets, result.warnings.count, result.breaches.count) == (TICKETS,) * 3
    # Recorded when the worker got to them: never before they were due.
    for late in (result.warnings, result.breaches):
        assert 0 <= late.p50_ms <= late.p99_ms <= late.max_ms
    memory = (result.worker_idle_mib, result.worker_running_mib, result.worker_peak_mib)
    assert None not in memory
    assert result.kib_per_ticket is not None
    assert result.worker_cpu_ms_per_ticket is not None
    assert result.worker_cpu_ms_per_ticket > 0

    assert Options().sla_tickets == 10_000  # what `make bench` runs
    [worker, warnings, breaches] = sla_timer_rows("sqlite", result)
    assert warnings[0].startswith(f"SLA warning lateness p50 / p99, {TICKETS} warnings")
    assert breaches[2] == f"{result.breaches.p50_ms:.0f} / {result.breaches.p99_ms:.0f} ms"
    assert f"{TICKETS} tickets' SLA clocks" in worker[0]
