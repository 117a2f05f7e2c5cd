"""The Temporal schedules a worker keeps (the daily purge of deleted documents, reading the
connected mailboxes every minute, the campaign owners' daily summaries every quarter hour),
and those of
yearly broadcasts, which the outbox relay creates and deletes.

A schedule lives on the Temporal server, so the purge runs once a day however many workers
there are, and a worker that is down misses nothing: the next one to start finds the schedule
in place (creating it again is a no-op).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from workflows.broadcast import SendBroadcast, SendBroadcastInput
from workflows.campaign_summaries import CampaignSummaries
from workflows.document_purge import PurgeDeletedDocuments
from workflows.mailbox_fetch import FetchMailboxes

MAILBOX_FETCH_SCHEDULE = "crm-mailbox-fetch"
DOCUMENT_PURGE_SCHEDULE = "crm-document-purge"
# Every day at 00:00 UTC (interval schedules are aligned to the Unix epoch).
DOCUMENT_PURGE_EVERY = timedelta(days=1)
CAMPAIGN_SUMMARY_SCHEDULE = "crm-campaign-summaries"
# At :00, :15, :30 and :45 UTC: every time zone's midnight falls on one of them.
CAMPAIGN_SUMMARY_EVERY = timedelta(minutes=15)


async def ensure_schedules(
    client: Client, task_queue: str, mailbox_every: timedelta = timedelta(minutes=1)
) -> None:
    """Create the schedules that are missing; ones already on the server are left as they are
    (a changed interval: delete the schedule, and the next worker creates it anew)."""
    purge = Schedule(
        action=ScheduleActionStartWorkflow(
            PurgeDeletedDocuments.run, id=DOCUMENT_PURGE_SCHEDULE, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=DOCUMENT_PURGE_EVERY)]),
        # A purge still running (a huge backlog) is not joined by another.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(DOCUMENT_PURGE_SCHEDULE, purge)
    mailboxes = Schedule(
        action=ScheduleActionStartWorkflow(
            FetchMailboxes.run, id=MAILBOX_FETCH_SCHEDULE, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=mailbox_every)]),
        # A slow round (a big mailbox) is not joined by the next one.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(MAILBOX_FETCH_SCHEDULE, mailboxes)
    summaries = Schedule(
        action=ScheduleActionStartWorkflow(
            CampaignSummaries.run, id=CAMPAIGN_SUMMARY_SCHEDULE, task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=CAMPAIGN_SUMMARY_EVERY)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(CAMPAIGN_SUMMARY_SCHEDULE, summaries)


def broadcast_schedule(payload: dict[str, Any], schedule_id: str, task_queue: str) -> Schedule:
    """A yearly broadcast's schedule, from the outbox payload `domain.broadcasts` writes: every
    year on a month and day at a local time, or every day at that time (the run then picks
    the records whose own date is that day). Runs of different days may overlap."""
    calendar: dict[str, Any] = {
        "hour": [ScheduleRange(payload["hour"])],
        "minute": [ScheduleRange(payload["minute"])],
    }
    if payload.get("month") is not None:
        calendar["month"] = [ScheduleRange(payload["month"])]
        calendar["day_of_month"] = [ScheduleRange(payload["day"])]
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SendBroadcast.run,
            SendBroadcastInput(payload["broadcast_id"]),
            id=f"{schedule_id}-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(**calendar)], time_zone_name=payload["time_zone"]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL),
    )
