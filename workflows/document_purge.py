"""`PurgeDeletedDocuments`: the daily run, started by a Temporal schedule, that erases deleted
documents past their retention period (`crm documents purge` does the same by hand)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.documents import DocumentActivities

# Batches of deletes; a database or storage that is away is retried for most of the day.
PURGE_TIMEOUT = timedelta(minutes=30)
PURGE_DEADLINE = timedelta(hours=20)
PURGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
)


@workflow.defn
class PurgeDeletedDocuments:
    """The result is how many documents were erased."""

    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity_method(
            DocumentActivities.purge_deleted_documents,
            start_to_close_timeout=PURGE_TIMEOUT,
            schedule_to_close_timeout=PURGE_DEADLINE,
            retry_policy=PURGE_RETRY,
        )
