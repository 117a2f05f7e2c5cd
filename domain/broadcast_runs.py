"""Sending a broadcast: one run per occurrence, the audience read when it runs, in batches.

Every recipient's message has the key `broadcast:<id>:<occurrence>:<record id>`, so a batch
that is retried (a worker restarted, an activity timed out) finds the messages it already
queued and sent and sends none of them again (`domain.messages`). The run's counts are
recounted from those messages after each batch, never incremented, so a retried batch cannot
count twice either. Sending is paced to a rate the SMTP relay accepts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from db.broadcasts import Broadcast, BroadcastRun
from domain import contacts, customers
from domain.actors import Actor
from domain.broadcasts import (
    AGGREGATE,
    CREATED_AT,
    CUSTOM_PREFIX,
    BroadcastStatus,
    Recurrence,
    RunStatus,
)
from domain.custom_field_values import values_of_records
from domain.emails import SmtpConfig
from domain.events import append_event
from domain.messages import Message, MessageRequest, MessageStatus, deliver_message, queue_message
from domain.pagination import Page
from domain.signed_links import LinkConfig

BATCH_SIZE = 100
LISTS: dict[str, Callable[..., Any]] = {
    "contact": contacts.list_contacts,
    "customer": customers.list_customers,
}


@dataclass
class Pace:
    """At most `per_second` sends a second, spread evenly."""

    per_second: float
    _next: float = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(now, self._next) + 1 / self.per_second


@dataclass(frozen=True)
class BatchResult:
    done: bool
    status: str
    targeted: int
    sent: int
    failed: int
    skipped: dict[str, int]


def occurrence_of(broadcast: Broadcast, moment: datetime) -> date:
    """The local date a run at `moment` is for."""
    return moment.astimezone(ZoneInfo(broadcast.time_zone)).date()


def _source(broadcast_id: UUID, occurrence: str) -> str:
    return f"broadcast:{broadcast_id}:{occurrence}"


async def start_run(broadcast_id: UUID, moment: datetime) -> int | None:
    """The run for the occurrence at `moment` (made once; a repeated start finds it), or None
    when the broadcast was cancelled."""
    broadcast = await Broadcast.get(id=broadcast_id)
    if broadcast.status == BroadcastStatus.CANCELLED:
        return None
    occurrence = occurrence_of(broadcast, moment).isoformat()
    async with in_transaction() as conn:
        run, created = await BroadcastRun.get_or_create(
            broadcast_id=broadcast.id,
            occurrence=occurrence,
            defaults={"agency_id": broadcast.agency_id},
            using_db=conn,
        )
        if created and broadcast.recurrence == Recurrence.ONCE:
            broadcast.status = BroadcastStatus.SENDING
            await broadcast.save(using_db=conn, update_fields=["status", "updated_at"])
    return int(run.id)


def same_day(value: date | datetime | None, day: date, zone: ZoneInfo) -> bool:
    if value is None:
        return False
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    if (value.month, value.day) == (day.month, day.day):
        return True
    # Born on 29 February: greeted on the 28th when the year has no 29th.
    leap_day = (value.month, value.day) == (2, 29)
    return leap_day and (day.month, day.day) == (2, 28) and not _is_leap(day.year)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


async def _on_their_day(
    actor: Actor, broadcast: Broadcast, records: list[Any], day: date
) -> list[Any]:
    """For yearly_on_field: the records whose date falls on `day` in the broadcast's zone."""
    zone = ZoneInfo(broadcast.time_zone)
    if broadcast.date_field == CREATED_AT:
        return [r for r in records if same_day(r.created_at, day, zone)]
    key = broadcast.date_field.removeprefix(CUSTOM_PREFIX)
    values = await values_of_records(actor, [(broadcast.record_type, r.id) for r in records])
    chosen = []
    for record in records:
        found = values.get((broadcast.record_type, record.id), [])
        dates = [v.date for v in found if v.definition.key == key]
        if dates and same_day(dates[0], day, zone):
            chosen.append(record)
    return chosen


async def _counts(run: BroadcastRun, source: str) -> dict[str, Any]:
    rows = (
        await Message.filter(agency_id=run.agency_id, source=source)
        .annotate(n=Count("id"))
        .group_by("status", "reason")
        .values("status", "reason", "n")
    )
    skipped: dict[str, int] = {}
    totals = dict.fromkeys(MessageStatus, 0)
    for row in rows:
        totals[MessageStatus(row["status"])] += row["n"]
        if row["status"] == MessageStatus.SKIPPED:
            skipped[row["reason"]] = skipped.get(row["reason"], 0) + row["n"]
    return {
        "targeted": sum(totals.values()),
        "sent": totals[MessageStatus.SENT],
        "failed": totals[MessageStatus.FAILED],
        "skipped": skipped,
    }


async def send_batch(
    smtp: SmtpConfig,
    links: LinkConfig,
    run_id: int,
    pace: Pace,
    heartbeat: Callable[[], None],
) -> BatchResult:
    """Send the next batch of the run's audience; the run's counts after it."""
    run = await BroadcastRun.get(id=run_id)
    broadcast = await Broadcast.get(id=run.broadcast_id)
    actor = Actor.system(broadcast.agency_id, f"broadcast:{broadcast.id}")
    source = _source(broadcast.id, run.occurrence)
    cancelled = broadcast.status == BroadcastStatus.CANCELLED
    done, status = cancelled, RunStatus.CANCELLED if cancelled else RunStatus.SENDING
    if not cancelled and run.status == RunStatus.SENDING:
        page: Page[Any] = await LISTS[broadcast.record_type](
            actor, BATCH_SIZE, run.cursor or None, broadcast.audience
        )
        records = page.items
        if broadcast.recurrence == Recurrence.YEARLY_ON_FIELD:
            day = date.fromisoformat(run.occurrence)
            records = await _on_their_day(actor, broadcast, records, day)
        for record in records:
            message, _ = await queue_message(
                actor,
                MessageRequest(
                    record_type=broadcast.record_type,
                    record_id=str(record.id),
                    idempotency_key=f"{source}:{record.id}",
                    source=source,
                    template_key=broadcast.template_key,
                ),
            )
            if message.status == MessageStatus.QUEUED:
                await pace.wait()
                await deliver_message(smtp, links, message.id)
            heartbeat()
        if page.cursors:
            run.cursor = page.cursors[-1]
        done = not page.has_next_page
        status = RunStatus.SENT if done else RunStatus.SENDING
    elif run.status != RunStatus.SENDING:
        done, status = True, RunStatus(run.status)
    counts = await _counts(run, source)
    async with in_transaction() as conn:
        run.status = status
        run.targeted, run.sent, run.failed = counts["targeted"], counts["sent"], counts["failed"]
        run.skipped = counts["skipped"]
        if done and run.finished_at is None:
            run.finished_at = datetime.now(UTC)
        await run.save(using_db=conn)
        if done and broadcast.recurrence == Recurrence.ONCE and not cancelled:
            broadcast.status = BroadcastStatus.SENT
            await broadcast.save(using_db=conn, update_fields=["status", "updated_at"])
        await append_event(
            actor,
            f"{AGGREGATE}.progressed",
            AGGREGATE,
            str(broadcast.id),
            {"occurrence": run.occurrence, "status": str(status), **counts},
            conn,
        )
    return BatchResult(done=done, status=str(status), **counts)
