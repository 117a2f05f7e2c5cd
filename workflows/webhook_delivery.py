"""`DeliverWebhook`: one event to one endpoint, retried with backoff, its failure recorded.

The workflow id is `webhook:<delivery id>`, so the relay can start it any number of times and
it runs once. The activities do the I/O; this only sequences them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.webhooks import ABANDONED, WebhookActivities

# Recording a failure only needs the database: retry it until the database answers.
RECORD_TIMEOUT = timedelta(seconds=30)
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


def workflow_id_for(delivery_id: int) -> str:
    return f"webhook:{delivery_id}"


@dataclass(frozen=True)
class WebhookDeliveryInput:
    """The delivery and how hard to try, fixed when the relay starts the workflow."""

    delivery_id: int
    max_attempts: int
    first_retry_seconds: float
    longest_retry_seconds: float
    attempt_timeout_seconds: float


@workflow.defn
class DeliverWebhook:
    """Delivers one webhook; the result is `delivered` or `failed`."""

    @workflow.run
    async def run(self, request: WebhookDeliveryInput) -> str:
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=request.first_retry_seconds),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(seconds=request.longest_retry_seconds),
            maximum_attempts=request.max_attempts,
            non_retryable_error_types=[ABANDONED],
        )
        try:
            await workflow.execute_activity_method(
                WebhookActivities.deliver_webhook,
                request.delivery_id,
                # The HTTP timeout, plus the address check and recording the outcome.
                start_to_close_timeout=timedelta(seconds=request.attempt_timeout_seconds + 15),
                retry_policy=retry,
            )
        except ActivityError:
            await workflow.execute_activity_method(
                WebhookActivities.record_webhook_failure,
                request.delivery_id,
                start_to_close_timeout=RECORD_TIMEOUT,
                retry_policy=RECORD_RETRY,
            )
            return "failed"
        return "delivered"
