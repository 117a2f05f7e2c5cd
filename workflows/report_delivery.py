"""`DeliverReport`: one run of a report schedule (started by its Temporal Schedule): build the
report as of the run's time, then send each recipient's message and count the outcomes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

from workflows.email_delivery import SEND_DEADLINE, SEND_RETRY, SEND_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.messages import MessageActivities
    from activities.report_delivery import (
        ReportRunInput,
        ReportRunPlan,
        conclude_report_delivery,
        prepare_report_delivery,
    )

# The time the schedule meant this run for (a run started late, after an outage, still
# reports on the period of its own time); the server sets it on every scheduled start.
SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
BUILD_TIMEOUT = timedelta(minutes=5)
BUILD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=10,
)


@dataclass(frozen=True)
class DeliverReportInput:
    schedule_id: str


@workflow.defn
class DeliverReport:
    @workflow.run
    async def run(self, request: DeliverReportInput) -> str:
        """The delivery's status (`sent`, `partly_sent`, `failed`), or why it stopped."""
        info = workflow.info()
        run_at: datetime = info.typed_search_attributes.get(SCHEDULED_AT) or workflow.now()
        # The run's key: its workflow id is the schedule's and the second it was started at, so
        # two triggers in one second share it; the run id is this run's alone, and the same
        # for every retry of its activities.
        plan: ReportRunPlan = await workflow.execute_activity(
            prepare_report_delivery,
            ReportRunInput(request.schedule_id, f"{info.workflow_id}/{info.run_id}", run_at),
            start_to_close_timeout=BUILD_TIMEOUT,
            retry_policy=BUILD_RETRY,
        )
        if plan.stopped or not plan.delivery_id:
            return f"stopped: {plan.stopped}"
        await asyncio.gather(
            *(
                workflow.execute_activity_method(
                    MessageActivities.deliver_message,
                    message_id,
                    start_to_close_timeout=SEND_TIMEOUT,
                    schedule_to_close_timeout=SEND_DEADLINE,
                    retry_policy=SEND_RETRY,
                )
                for message_id in plan.message_ids
            )
        )
        return await workflow.execute_activity(
            conclude_report_delivery,
            plan.delivery_id,
            start_to_close_timeout=BUILD_TIMEOUT,
            retry_policy=BUILD_RETRY,
        )
