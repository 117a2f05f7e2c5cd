"""`ImportRecords`: one import, batch after batch until the file is through or the import is
cancelled (the batches read its status). Each batch commits with the import's `next_row`, so
a retried activity (a worker restarted) resumes after the last committed batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.imports import ImportActivities, ImportProgress

# A call imports up to 20 batches of 500 rows: a minute or two on a slow database. The
# heartbeat (one per batch) shows a lost worker within a minute.
CALL_TIMEOUT = timedelta(minutes=30)
HEARTBEAT = timedelta(minutes=1)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
CALLS_PER_RUN = 100


@dataclass(frozen=True)
class ImportRecordsInput:
    import_id: str


@workflow.defn
class ImportRecords:
    def __init__(self) -> None:
        self._progress: ImportProgress | None = None

    @workflow.query
    def progress(self) -> ImportProgress | None:
        return self._progress

    @workflow.run
    async def run(self, request: ImportRecordsInput) -> ImportProgress | None:
        for _ in range(CALLS_PER_RUN):
            self._progress = await workflow.execute_activity_method(
                ImportActivities.import_batches,
                request.import_id,
                start_to_close_timeout=CALL_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=RETRY,
            )
            if self._progress.done:
                return self._progress
        workflow.continue_as_new(request)
        return None  # type: ignore[unreachable]  # continue_as_new raises
