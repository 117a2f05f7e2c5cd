"""The outbox: work for Temporal written with the change that causes it, delivered by a relay.

The domain only writes and reads rows here; the relay that talks to Temporal lives in `crm`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from db.outbox import OutboxMessage as OutboxMessage
from domain.tracing import with_trace

MAX_ERROR_LENGTH = 2_000


class OutboxKind(StrEnum):
    START_FLOW = "start_flow"
    SIGNAL_FLOW = "signal_flow"
    DELIVER_MESSAGE = "deliver_message"
    START_BROADCAST = "start_broadcast"
    SCHEDULE_BROADCAST = "schedule_broadcast"
    CANCEL_BROADCAST = "cancel_broadcast"
    PROCESS_INBOUND_EMAIL = "process_inbound"
    START_MEETING_REMINDER = "meeting_reminder"
    CANCEL_MEETING_REMINDER = "cancel_reminder"
    CAMPAIGN_PERIOD = "campaign_period"
    START_TICKET_CLOSING = "ticket_closing"
    START_TICKET_SLA = "ticket_sla"
    SIGNAL_TICKET_SLA = "ticket_sla_signal"
    WATCH_SCORE = "watch_score"
    START_IMPORT = "start_import"
    SYNC_REPORT_SCHEDULE = "report_schedule"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"


async def enqueue(
    agency_id: UUID,
    kind: OutboxKind,
    workflow_id: str,
    payload: dict[str, Any],
    connection: BaseDBAsyncClient,
) -> OutboxMessage:
    """Write one message in the caller's transaction: it exists if and only if the change does."""
    return await OutboxMessage.create(
        agency_id=agency_id,
        kind=kind,
        workflow_id=workflow_id,
        # The trace of the request that wrote it, continued by the relay.
        payload=with_trace(payload),
        status=OutboxStatus.PENDING,
        next_attempt_at=datetime.now(UTC),
        using_db=connection,
    )


async def enqueue_many(
    agency_id: UUID,
    messages: list[tuple[OutboxKind, str, dict[str, Any]]],
    connection: BaseDBAsyncClient,
) -> None:
    """`enqueue` of several messages (kind, workflow id, payload) in one statement, delivered
    in the order given (a batch of events' signals and starts)."""
    if not messages:
        return
    now = datetime.now(UTC)
    await OutboxMessage.bulk_create(
        [
            OutboxMessage(
                agency_id=agency_id,
                kind=kind,
                workflow_id=workflow_id,
                payload=with_trace(payload),
                status=OutboxStatus.PENDING,
                next_attempt_at=now,
            )
            for kind, workflow_id, payload in messages
        ],
        using_db=connection,
    )


async def due_messages(limit: int, now: datetime | None = None) -> list[OutboxMessage]:
    """Pending messages due now, oldest first (so a run's start comes before its signals)."""
    moment = now or datetime.now(UTC)
    return (
        await OutboxMessage.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=moment)
        .order_by("id")
        .limit(limit)
    )


async def mark_delivered(message: OutboxMessage) -> None:
    message.status = OutboxStatus.DELIVERED
    message.delivered_at = datetime.now(UTC)
    message.attempts += 1
    message.last_error = ""
    await message.save(update_fields=["status", "delivered_at", "attempts", "last_error"])


async def mark_failed(message: OutboxMessage, error: str, retry_in: timedelta) -> None:
    """Keep the message pending; its next attempt waits `retry_in`."""
    message.attempts += 1
    message.last_error = error[:MAX_ERROR_LENGTH]
    message.next_attempt_at = datetime.now(UTC) + retry_in
    await message.save(update_fields=["attempts", "last_error", "next_attempt_at"])
