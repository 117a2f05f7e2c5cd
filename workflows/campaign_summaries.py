"""`CampaignSummaries`: one run every quarter hour (a Temporal Schedule) sends the daily
campaign summary to the owners whose local day has just ended (`domain.campaign_summaries`)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.campaigns import send_campaign_summaries


@workflow.defn
class CampaignSummaries:
    @workflow.run
    async def run(self) -> int:
        """How many owners got their summary."""
        return await workflow.execute_activity(
            send_campaign_summaries,
            workflow.now().isoformat(),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=2)
            ),
        )
