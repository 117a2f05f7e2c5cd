"""`ProcessInboundEmail`: reads and routes one received message, retrying until it is done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.inbound_emails import InboundEmailActivities, InboundOutcome

# Parsing, a few queries and the attachments' storage.
PROCESS_TIMEOUT = timedelta(minutes=2)
# A database that is away is retried for a week: the raw message waits in the storage.
PROCESS_DEADLINE = timedelta(days=7)
PROCESS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)


@dataclass(frozen=True)
class ProcessInboundEmailInput:
    inbound_email_id: str


@workflow.defn
class ProcessInboundEmail:
    """One per stored message (its workflow id names the row); the result is where it went."""

    @workflow.run
    async def run(self, request: ProcessInboundEmailInput) -> InboundOutcome:
        return await workflow.execute_activity_method(
            InboundEmailActivities.process_inbound_email,
            request.inbound_email_id,
            start_to_close_timeout=PROCESS_TIMEOUT,
            schedule_to_close_timeout=PROCESS_DEADLINE,
            retry_policy=PROCESS_RETRY,
        )
