"""More of the sysadmin dashboard: how far event consumers trail the event log, and how far
imports have got.

Event lag, now: the agency's event log head (its latest event), the webhook deliveries the
relay has not started yet and those not finished, the age of the oldest unfinished one, and
how many events have been appended since the oldest unfinished one's event (how far webhooks
trail the log). The outbox's own lag is the existing outbox figures (its oldest waiting
message). Subscriptions read the log live in each API process, each from its own position:
that lag is per process, in `/metrics` (`crm_event_fan_out_lag_seconds`), not in the
database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from tortoise.expressions import Q

from db.events import Event
from db.imports import RecordImport
from db.webhooks import WebhookDelivery
from domain.actors import Actor
from domain.dashboards import DashboardFilter
from domain.imports import ImportStatus
from domain.webhook_deliveries import DeliveryStatus

MAX_IMPORTS = 100
UNFINISHED = [DeliveryStatus.PENDING, DeliveryStatus.DELIVERING]


@dataclass(frozen=True)
class EventLag:
    latest_event_id: int  # the log's head (0: no event yet)
    latest_event_seconds: int  # how long ago it was appended
    webhooks_not_started: int  # deliveries whose workflow the relay has yet to start
    webhooks_unfinished: int  # ... not started, or still being attempted
    webhook_oldest_unfinished_seconds: int
    webhook_events_behind: int  # events appended since the oldest unfinished one's event


@dataclass(frozen=True)
class ImportProgress:
    import_id: UUID
    file_name: str
    record_type: str
    status: str
    total_rows: int
    done_rows: int  # rows committed (created, updated, skipped or failed)
    created: int
    updated: int
    skipped: int
    failed: int


def _seconds_since(moment: datetime | None, now: datetime) -> int:
    return max(int((now - moment).total_seconds()), 0) if moment else 0


async def event_lag(actor: Actor) -> EventLag:
    agency = Q(agency_id=actor.agency_id)
    now = datetime.now(UTC)
    head = await Event.filter(agency).order_by("-id").first().values("id", "occurred_at")
    unfinished = WebhookDelivery.filter(agency, status__in=UNFINISHED)
    oldest = await unfinished.order_by("created_at", "id").first()
    oldest_at = oldest.created_at if oldest else None
    first = await unfinished.order_by("event_id").first()
    behind = await Event.filter(agency, id__gte=first.event_id).count() if first else 0
    return EventLag(
        latest_event_id=head["id"] if head else 0,
        latest_event_seconds=_seconds_since(head["occurred_at"] if head else None, now),
        webhooks_not_started=await unfinished.filter(status=DeliveryStatus.PENDING).count(),
        webhooks_unfinished=await unfinished.count(),
        webhook_oldest_unfinished_seconds=_seconds_since(oldest_at, now),
        webhook_events_behind=behind,
    )


async def import_progress(actor: Actor, period: DashboardFilter) -> list[ImportProgress]:
    """Imports running now, and those uploaded in the period (the latest 100), newest first."""
    found = (
        await RecordImport.filter(
            Q(status=ImportStatus.RUNNING)
            | Q(created_at__gte=period.since, created_at__lt=period.until),
            agency_id=actor.agency_id,
        )
        .order_by("-created_at", "id")
        .limit(MAX_IMPORTS)
    )
    return [
        ImportProgress(
            import_id=run.id,
            file_name=run.file_name,
            record_type=run.record_type,
            status=run.status,
            total_rows=run.total_rows,
            done_rows=min(max(run.next_row - 1, 0), run.total_rows),
            created=run.created,
            updated=run.updated,
            skipped=run.skipped,
            failed=run.failed,
        )
        for run in found
    ]
