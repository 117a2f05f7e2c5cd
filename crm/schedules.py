"""The Temporal schedules a worker keeps: today, the daily purge of deleted documents.

A schedule lives on the Temporal server, so the purge runs once a day however many workers
there are, and a worker that is down misses nothing: the next one to start finds the schedule
in place (creating it again is a no-op).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)

from workflows.document_purge import PurgeDeletedDocuments

DOCUMENT_PURGE_SCHEDULE = "crm-document-purge"
# Every day at 00:00 UTC (interval schedules are aligned to the Unix epoch).
DOCUMENT_PURGE_EVERY = timedelta(days=1)


async def ensure_schedules(client: Client, task_queue: str) -> None:
    """Create the schedules that are missing; ones already on the server are left as they are."""
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
