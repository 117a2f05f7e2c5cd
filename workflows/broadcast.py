"""`SendBroadcast`: one run of a broadcast, after a durable timer for a one-off one (a yearly
one's Temporal Schedule starts it at its time), batch by batch until the audience is done or
the broadcast is cancelled."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.broadcasts import BroadcastActivities, RunProgress, StartRunInput

# A batch is at most 100 messages at the configured rate: minutes at a slow relay. The
# heartbeat (one per recipient) shows a lost worker within a minute; the retry resumes the
# batch, and the messages' keys keep it from sending twice.
BATCH_TIMEOUT = timedelta(minutes=30)
HEARTBEAT = timedelta(minutes=1)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5))
START_TIMEOUT = timedelta(seconds=30)
# Batches per workflow run before continuing as new (keeps the history short at any size).
BATCHES_PER_RUN = 200


@dataclass(frozen=True)
class SendBroadcastInput:
    broadcast_id: str
    # One-off: when to send. None: now (a Schedule started this run at its time).
    send_at: datetime | None = None
    run_id: int | None = None  # set when continuing a run as new


@workflow.defn
class SendBroadcast:
    def __init__(self) -> None:
        self._cancelled = False
        self._progress: RunProgress | None = None

    @workflow.signal
    def cancel(self) -> None:
        self._cancelled = True

    @workflow.query
    def progress(self) -> RunProgress | None:
        return self._progress

    @workflow.run
    async def run(self, request: SendBroadcastInput) -> RunProgress | None:
        run_id = request.run_id
        if run_id is None:
            if request.send_at is not None and request.send_at > workflow.now():
                wait = request.send_at - workflow.now()
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._cancelled, timeout=wait, timeout_summary="send_at"
                    )
            if self._cancelled:
                return None
            run_id = await workflow.execute_activity_method(
                BroadcastActivities.start_broadcast_run,
                StartRunInput(request.broadcast_id, request.send_at or workflow.now()),
                start_to_close_timeout=START_TIMEOUT,
                retry_policy=RETRY,
            )
            if run_id is None:
                return None
        for _ in range(BATCHES_PER_RUN):
            # A cancel still lets the batch read the broadcast's status and end the run.
            self._progress = await workflow.execute_activity_method(
                BroadcastActivities.send_broadcast_batch,
                run_id,
                start_to_close_timeout=BATCH_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=RETRY,
            )
            if self._progress.done:
                return self._progress
        # Raises: the run goes on as a new workflow run with the same run id.
        workflow.continue_as_new(SendBroadcastInput(request.broadcast_id, run_id=run_id))
        return None  # type: ignore[unreachable]  # continue_as_new raises
