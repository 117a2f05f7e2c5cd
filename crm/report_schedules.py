"""Report schedules on the Temporal server: the relay makes each one match its row.

`domain.report_schedules` writes the wanted state (cadence, time zone, paused, deleted) to
the outbox with every change; `sync_report_schedule` applies one such state and may be
applied any number of times: it creates the schedule when missing, else replaces its spec
and action, then pauses or unpauses it to match; a deletion of a schedule that is gone is
done. The outbox delivers a schedule's messages in order, so the last state wins.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from crm.logging import WORKER_LOGGER
from workflows.report_delivery import DeliverReport, DeliverReportInput

log = logging.getLogger(f"{WORKER_LOGGER}.report_schedules")

# A run missed while the server was away is still made within this window (a daily report
# an hour late beats none); older ones are skipped.
CATCHUP_WINDOW = timedelta(hours=6)
# The ISO weekday of the row (0 Monday) as Temporal's calendar counts it (0 Sunday).
_TEMPORAL_WEEKDAY = {0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 0}


def report_schedule(payload: dict[str, Any], schedule_id: str, task_queue: str) -> Schedule:
    """The Temporal Schedule of one report schedule's wanted state."""
    calendar: dict[str, Any] = {
        "hour": [ScheduleRange(payload["hour"])],
        "minute": [ScheduleRange(payload["minute"])],
    }
    if payload["frequency"] == "weekly":
        calendar["day_of_week"] = [ScheduleRange(_TEMPORAL_WEEKDAY[payload["weekday"]])]
    elif payload["frequency"] == "monthly":
        calendar["day_of_month"] = [ScheduleRange(payload["day_of_month"])]
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DeliverReport.run,
            DeliverReportInput(payload["schedule_id"]),
            id=f"{schedule_id}-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(**calendar)], time_zone_name=payload["time_zone"]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=CATCHUP_WINDOW),
        state=ScheduleState(paused=payload["paused"], note=payload.get("note") or None),
    )


async def sync_report_schedule(
    client: Client,
    payload: dict[str, Any],
    schedule_id: str,
    task_queue: str,
    rpc_timeout: timedelta,
) -> None:
    """Make the server's schedule what `payload` says (idempotent)."""
    handle = client.get_schedule_handle(schedule_id)
    if payload["deleted"]:
        try:
            await handle.delete(rpc_timeout=rpc_timeout)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
        return
    wanted = report_schedule(payload, schedule_id, task_queue)
    try:
        await client.create_schedule(schedule_id, wanted, rpc_timeout=rpc_timeout)
        return
    except ScheduleAlreadyRunningError:
        pass

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=wanted)

    await handle.update(replace, rpc_timeout=rpc_timeout)
    # An update leaves the paused state as it was: set it on its own.
    note = payload.get("note") or None
    if payload["paused"]:
        await handle.pause(note=note or "paused", rpc_timeout=rpc_timeout)
    else:
        await handle.unpause(note="resumed", rpc_timeout=rpc_timeout)
    log.info("report schedule updated", extra={"schedule_id": schedule_id})
