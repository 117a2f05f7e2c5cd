"""Many flow runs asleep at once on one `crm worker`: its memory, and how late their timers
fire.

A Temporal dev server of the benchmark's own and one `crm worker` process (the production
worker, with its default workflow cache); the benchmark starts `FlowRun` workflows directly
on the worker's flows queue, each a real run of a two-step flow (wait, end) whose progress
reports go through the worker's activities to the database. Their waits end at their start
plus the same sleep, so the timers fall due at the rate the runs were started.

Lateness is read from each sampled run's history: when the worker began the workflow task
that followed the timer (what a step after the wait would see), against when the timer was
due (its start plus its duration). Memory is the worker's resident set (`VmRSS`) before the
runs, with every run asleep, and its peak (`VmHWM`).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from tortoise.context import TortoiseContext

from bench.broadcast_load import peak_mib, process_mib
from bench.client import BenchmarkError
from bench.concurrent_load import WORKER_STARTED, start_crm, stop_crm, wait_for_line
from bench.timings import percentile
from bench.write_load import temporal_config_for, worker_environment
from crm.dev_stack import find_temporal_binary
from db.connection import migrate
from domain.flows.definitions import FlowDefinition, FlowRunStatus
from workflows import DATA_CONVERTER
from workflows.flow_run import FlowRun, FlowRunInput, FlowRunResult

SLEEPING_RUNS = 10_000
SLEEP = timedelta(minutes=3)  # longer than starting them all takes on 2 shared cores
# Histories read for the lateness (each one a request to the server).
SAMPLED = 1_000
STARTING_AT_ONCE = 100
TIMEOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class SleepingFlowsResult:
    runs: int
    sleep_seconds: float
    start_seconds: float  # to start every run
    worker_idle_mib: float | None
    worker_asleep_mib: float | None  # every run started and asleep
    worker_peak_mib: float | None
    sampled: int
    late_p50_ms: float
    late_p99_ms: float
    late_max_ms: float
    completed: int  # sampled runs that ended as completed

    @property
    def kib_per_run(self) -> float | None:
        if self.worker_idle_mib is None or self.worker_asleep_mib is None:
            return None
        return round((self.worker_asleep_mib - self.worker_idle_mib) * 1024 / self.runs, 1)


def _definition(sleep: timedelta) -> FlowDefinition:
    return FlowDefinition.model_validate(
        {
            "key": "bench-sleep",
            "name": "Bench sleep",
            "record_type": "contact",
            "trigger": {"manual": True},
            "steps": [
                {"id": "sleep", "type": "wait", "duration": f"{int(sleep.total_seconds())}s"},
                {"id": "done", "type": "end"},
            ],
        }
    )


def lateness(history: WorkflowHistory) -> float:
    """Seconds from the timer falling due to the worker starting the task after it fired."""
    due = None
    fired = False
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            attributes = event.timer_started_event_attributes
            due = event.event_time.ToDatetime() + attributes.start_to_fire_timeout.ToTimedelta()
        elif event.event_type == EventType.EVENT_TYPE_TIMER_FIRED:
            fired = True
        elif fired and event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            assert due is not None
            return (event.event_time.ToDatetime() - due).total_seconds()
    raise BenchmarkError(f"run {history.workflow_id}: no timer fired")


async def _running(client: Client) -> int:
    """Runs not ended yet (the server is the benchmark's own: they are all its runs)."""
    query = "WorkflowType = 'FlowRun' AND ExecutionStatus = 'Running'"
    return (await client.count_workflows(query)).count


async def sleeping_flows_benchmark(
    workdir: Path,
    runs: int = SLEEPING_RUNS,
    sleep: timedelta = SLEEP,
    sampled: int = SAMPLED,
) -> SleepingFlowsResult:
    """Start `runs` sleeping flow runs on one worker, wait for all to end, read the figures.

    On a SQLite database of its own: the runs' progress reports find no flow-run rows (the
    runs were not started through a trigger), which the activity takes as nothing to store,
    and the worker's relays find no outbox rows of another part of the benchmark.
    """
    database_url = f"sqlite://{workdir / 'sleeping-flows.sqlite3'}"
    async with TortoiseContext():
        await migrate(database_url)
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_binary()),
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
        data_converter=DATA_CONVERTER,
    )
    async with environment:
        client = environment.client
        config = temporal_config_for(workdir, uuid.uuid4().hex[:8])
        queue = yaml.safe_load(config.read_text())["temporal"]["task_queues"]["flows"]
        env = worker_environment(
            database_url, workdir, client.service_client.config.target_host, config
        )
        worker, log = await start_crm(["worker"], env, workdir / "sleeping-worker.log")
        try:
            await wait_for_line(worker, log, WORKER_STARTED)
            idle = process_mib(worker.pid, "VmRSS")
            prefix = f"bench-sleep-{uuid.uuid4().hex[:8]}-"
            definition = _definition(sleep)
            agency_id, record_type = str(uuid.uuid4()), "contact"
            loop = asyncio.get_running_loop()
            started = loop.time()
            for low in range(0, runs, STARTING_AT_ONCE):
                await asyncio.gather(
                    *(
                        client.start_workflow(
                            FlowRun.run,
                            FlowRunInput(
                                agency_id,
                                "bench-sleep",
                                1,
                                record_type,
                                str(uuid.uuid4()),
                                definition,
                            ),
                            id=f"{prefix}{n}",
                            task_queue=queue,
                        )
                        for n in range(low, min(low + STARTING_AT_ONCE, runs))
                    )
                )
            start_seconds = loop.time() - started
            # Every run has taken its first task (reported progress, set its timer) when the
            # worker has nothing left to do before the first timer: wait out a quiet moment.
            await asyncio.sleep(min(10.0, max(0.0, sleep.total_seconds() - start_seconds) / 2))
            asleep = process_mib(worker.pid, "VmRSS")
            deadline = loop.time() + sleep.total_seconds() + TIMEOUT.total_seconds()
            while await _running(client):
                if loop.time() > deadline:
                    raise BenchmarkError(f"sleeping flows: runs still running after {TIMEOUT}")
                await asyncio.sleep(1.0)
            peak = max(filter(None, (peak_mib(worker.pid), asleep)), default=None)
        finally:
            await stop_crm(worker)
        step = max(1, runs // sampled)
        picked = list(range(0, runs, step))[:sampled]
        late: list[float] = []
        completed = 0
        for low in range(0, len(picked), STARTING_AT_ONCE):
            handles: list[WorkflowHandle[FlowRun, FlowRunResult]] = [
                client.get_workflow_handle_for(FlowRun.run, f"{prefix}{n}")
                for n in picked[low : low + STARTING_AT_ONCE]
            ]
            histories = await asyncio.gather(*(h.fetch_history() for h in handles))
            late += [lateness(h) for h in histories]
            results = await asyncio.gather(*(h.result() for h in handles))
            completed += sum(1 for r in results if r.status == FlowRunStatus.COMPLETED)
    return SleepingFlowsResult(
        runs=runs,
        sleep_seconds=sleep.total_seconds(),
        start_seconds=round(start_seconds, 1),
        worker_idle_mib=idle,
        worker_asleep_mib=asleep,
        worker_peak_mib=peak,
        sampled=len(late),
        late_p50_ms=round(percentile(late, 50) * 1000, 1),
        late_p99_ms=round(percentile(late, 99) * 1000, 1),
        late_max_ms=round(max(late) * 1000, 1),
        completed=completed,
    )
