"""`CampaignPeriod`: one run per campaign that moves it with its period, on durable timers.

At the start of the period the campaign is activated, at the end deactivated (each by an
activity that applies the lifecycle event, and does nothing if the campaign has moved on). A
changed period arrives as the `move` signal (the outbox relay signals-with-start, so a run
exists whenever a period does): the run drops the timer it waits on and waits for the new
times. While the campaign runs, the run wakes every hour to tell the owner what happened
(views, likes, sign-ups) in one notification, not one per view.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.campaigns import campaign_period_reached, notify_campaign_activity

# How often, while the campaign is active, the owner hears of new activity (at most).
DIGEST_EVERY = timedelta(hours=1)
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5)
)
# Past this many events, the run continues as new (a months-long campaign wakes hourly).
HISTORY_LIMIT = 10_000
START = "start"
END = "end"


@dataclass(frozen=True)
class Period:
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class CampaignPeriodInput:
    campaign_id: str
    period: Period
    # Set when continued as new after the start was handled.
    started: bool = False


@workflow.defn
class CampaignPeriod:
    def __init__(self) -> None:
        self._period: Period | None = None
        self._moved = False

    @workflow.signal
    def move(self, period: Period) -> None:
        self._period = period
        self._moved = True

    async def _sleep_until(self, moment: datetime, summary: str) -> bool:
        """Wait until `moment`; True if the period moved meanwhile (the wait is dropped)."""
        delay = moment - workflow.now()
        if delay > timedelta(0):
            with contextlib.suppress(TimeoutError):  # the timeout is the wait being over
                await workflow.wait_condition(
                    lambda: self._moved, timeout=delay, timeout_summary=summary
                )
        return self._moved

    async def _reached(self, campaign_id: str, edge: str, moment: datetime) -> None:
        await workflow.execute_activity(
            campaign_period_reached,
            args=[campaign_id, edge, moment.isoformat(), workflow.now().isoformat()],
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    async def _digest(self, campaign_id: str) -> None:
        await workflow.execute_activity(
            notify_campaign_activity,
            campaign_id,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )

    @workflow.run
    async def run(self, request: CampaignPeriodInput) -> str:
        """How it ended: `ended` once the end of the period was handled."""
        if self._period is None:
            self._period = request.period
        started = request.started
        campaign_id = request.campaign_id
        while True:
            period = self._period
            self._moved = False
            if not started:
                if await self._sleep_until(period.starts_at, START):
                    continue
                await self._reached(campaign_id, START, period.starts_at)
            started = False  # a moved period starts again (a no-op if already active)
            moved = False
            while workflow.now() < period.ends_at:
                wake = min(period.ends_at, workflow.now() + DIGEST_EVERY)
                if await self._sleep_until(wake, "activity"):
                    moved = True
                    break
                await self._digest(campaign_id)
                if workflow.info().get_current_history_length() > HISTORY_LIMIT:
                    workflow.continue_as_new(CampaignPeriodInput(campaign_id, period, started=True))
            if moved:
                continue
            await self._reached(campaign_id, END, period.ends_at)
            return "ended"
