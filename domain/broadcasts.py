"""Broadcasts: admins and marketing send one published template to an audience, once at a
time in a time zone, or every year (on a fixed date, or on each record's own date such as a
birthday custom field or the day it became a customer).

This module is the API side: define, list, cancel. A broadcast is started through the outbox
in the transaction that creates it (a durable timer for a one-off, a Temporal Schedule for a
yearly one), so nothing is lost while Temporal is away. The sending side, which reads the
audience when a run starts, is `domain.broadcast_runs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.broadcasts import Broadcast as Broadcast
from db.broadcasts import BroadcastRun as BroadcastRun
from db.custom_fields import CustomField
from domain.actors import Actor
from domain.agencies import get_agency
from domain.contacts import ContactFilter
from domain.customers import CustomerFilter
from domain.errors import DomainError, DomainErrors, input_errors
from domain.field_types import RequiredName, TimeZone, input_codes
from domain.message_kinds import RECIPIENT_TYPES, TemplateKey, TemplateKind
from domain.message_templates import MessageTemplate, MessageTemplateVersion, TemplateStatus
from domain.outbox import OutboxKind, enqueue
from domain.policies import require
from domain.record_changes import record_created, record_updated
from domain.roles import Access, Resource
from domain.row_locks import locked_in_agency

AGGREGATE = "broadcast"
MAX_BROADCASTS = 500
# A one-off broadcast may be set this far back (a form filled in a minute ago) and is sent now.
GRACE = timedelta(minutes=5)
CREATED_AT = "created_at"
CUSTOM_PREFIX = "custom_fields."


class Recurrence(StrEnum):
    ONCE = "once"
    YEARLY = "yearly"  # every year on send_at's local date and time
    YEARLY_ON_FIELD = "yearly_on_field"  # every day at send_at's local time, to those whose
    # date field falls on that day (birthdays, anniversaries)


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time (a yearly one stays here between runs)
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class RunStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class BroadcastErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND"
    NOT_PUBLISHED = "NOT_PUBLISHED"
    TRANSACTIONAL = "TRANSACTIONAL"
    INVALID_AUDIENCE = "INVALID_AUDIENCE"
    UNKNOWN_DATE_FIELD = "UNKNOWN_DATE_FIELD"
    IN_THE_PAST = "IN_THE_PAST"
    NOT_CANCELLABLE = "NOT_CANCELLABLE"


_CODES = input_codes(BroadcastErrorCode)
FILTERS: dict[str, type[BaseModel]] = {"contact": ContactFilter, "customer": CustomerFilter}


class BroadcastInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: RequiredName
    template: TemplateKey
    record_type: str = "contact"
    audience: dict[str, Any] = {}
    time_zone: TimeZone | None = None
    send_at: AwareDatetime
    recurrence: Recurrence = Recurrence.ONCE
    date_field: str = ""


@dataclass(frozen=True)
class CalendarTime:
    """When a yearly broadcast fires, in its time zone (`month`/`day` None: every day)."""

    hour: int
    minute: int
    month: int | None
    day: int | None
    time_zone: str


def workflow_id_for(broadcast: Broadcast) -> str:
    """A one-off's run workflow, and a yearly one's Temporal Schedule."""
    return f"broadcast-{broadcast.agency_id}-{broadcast.id}"


def calendar_time(broadcast: Broadcast) -> CalendarTime:
    local = broadcast.send_at.astimezone(ZoneInfo(broadcast.time_zone))
    fixed_day = broadcast.recurrence == Recurrence.YEARLY
    return CalendarTime(
        hour=local.hour,
        minute=local.minute,
        month=local.month if fixed_day else None,
        day=local.day if fixed_day else None,
        time_zone=broadcast.time_zone,
    )


def _parsed(data: dict[str, Any]) -> BroadcastInput:
    try:
        return BroadcastInput.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, _CODES, BroadcastErrorCode.INVALID) from exc


async def check_sendable_template(actor: Actor, key: str) -> None:
    """A template that may go to many people: it exists, is published, and is not
    transactional (campaign shares check theirs here too)."""
    template = await MessageTemplate.get_or_none(agency_id=actor.agency_id, key=key)
    if template is None:
        raise DomainError(
            BroadcastErrorCode.TEMPLATE_NOT_FOUND, f"No template with key {key!r}.", "template"
        )
    if template.kind == TemplateKind.TRANSACTIONAL:
        raise DomainError(
            BroadcastErrorCode.TRANSACTIONAL,
            "Transactional templates are for one person's service messages, not broadcasts.",
            "template",
        )
    if not await MessageTemplateVersion.exists(
        template_id=template.id, status=TemplateStatus.PUBLISHED
    ):
        raise DomainError(
            BroadcastErrorCode.NOT_PUBLISHED, f"Template {key!r} is not published.", "template"
        )


def _checked_audience(record_type: str, audience: dict[str, Any]) -> dict[str, Any]:
    """The filter as stored (JSON values), read again when each run starts."""
    if record_type not in RECIPIENT_TYPES:
        raise DomainError(
            BroadcastErrorCode.INVALID, "Broadcasts go to contacts or customers.", "record_type"
        )
    try:
        return (
            FILTERS[record_type].model_validate(audience).model_dump(mode="json", exclude_none=True)
        )
    except ValidationError as exc:
        errors = input_errors(exc, _CODES, BroadcastErrorCode.INVALID_AUDIENCE).errors
        raise DomainErrors(
            [
                DomainError(
                    BroadcastErrorCode.INVALID_AUDIENCE, e.message, f"audience.{e.field or ''}"
                )
                for e in errors
            ]
        ) from exc


async def _check_date_field(actor: Actor, given: BroadcastInput) -> None:
    if given.recurrence != Recurrence.YEARLY_ON_FIELD:
        if given.date_field:
            raise DomainError(
                BroadcastErrorCode.INVALID,
                "A date field is for yearly_on_field broadcasts.",
                "date_field",
            )
        return
    if given.date_field == CREATED_AT:
        return
    key = given.date_field.removeprefix(CUSTOM_PREFIX)
    if given.date_field.startswith(CUSTOM_PREFIX) and await CustomField.exists(
        agency_id=actor.agency_id,
        record_type=given.record_type,
        key=key,
        type="date",
        archived_at__isnull=True,
    ):
        return
    raise DomainError(
        BroadcastErrorCode.UNKNOWN_DATE_FIELD,
        f"Say which date: {CREATED_AT}, or {CUSTOM_PREFIX}<key> of a date custom field of "
        f"{given.record_type} records.",
        "date_field",
    )


def _snapshot(broadcast: Broadcast) -> dict[str, Any]:
    return {
        "name": broadcast.name,
        "template": broadcast.template_key,
        "record_type": broadcast.record_type,
        "audience": broadcast.audience,
        "time_zone": broadcast.time_zone,
        "send_at": broadcast.send_at.isoformat(),
        "recurrence": broadcast.recurrence,
        "date_field": broadcast.date_field,
        "status": broadcast.status,
    }


async def _start(broadcast: Broadcast, conn: BaseDBAsyncClient) -> None:
    if broadcast.recurrence == Recurrence.ONCE:
        payload: dict[str, Any] = {
            "broadcast_id": str(broadcast.id),
            "agency_id": str(broadcast.agency_id),
            "send_at": broadcast.send_at.isoformat(),
        }
        kind = OutboxKind.START_BROADCAST
    else:
        when = calendar_time(broadcast)
        payload = {
            "broadcast_id": str(broadcast.id),
            "agency_id": str(broadcast.agency_id),
            "hour": when.hour,
            "minute": when.minute,
            "month": when.month,
            "day": when.day,
            "time_zone": when.time_zone,
        }
        kind = OutboxKind.SCHEDULE_BROADCAST
    await enqueue(broadcast.agency_id, kind, workflow_id_for(broadcast), payload, conn)


async def create_broadcast(actor: Actor, data: dict[str, Any]) -> Broadcast:
    """Schedule a broadcast; the audience is read when each run starts, not now."""
    require(actor, Resource.BROADCASTS, Access.WRITE)
    given = _parsed(data)
    audience = _checked_audience(given.record_type, given.audience)
    await check_sendable_template(actor, given.template)
    await _check_date_field(actor, given)
    if given.recurrence == Recurrence.ONCE and given.send_at < datetime.now(UTC) - GRACE:
        raise DomainError(BroadcastErrorCode.IN_THE_PAST, "That time has passed.", "send_at")
    time_zone = given.time_zone or (await get_agency(actor)).time_zone or "UTC"
    async with in_transaction() as conn:
        count = await Broadcast.filter(agency_id=actor.agency_id).using_db(conn).count()
        if count >= MAX_BROADCASTS:
            raise DomainError(
                BroadcastErrorCode.TOO_MANY, f"At most {MAX_BROADCASTS} broadcasts.", "name"
            )
        broadcast = await Broadcast.create(
            id=uuid4(),
            agency_id=actor.agency_id,
            name=given.name,
            template_key=given.template,
            record_type=given.record_type,
            audience=audience,
            time_zone=time_zone,
            send_at=given.send_at,
            recurrence=given.recurrence,
            date_field=given.date_field,
            status=BroadcastStatus.SCHEDULED,
            created_by=actor.id,
            using_db=conn,
        )
        await record_created(actor, AGGREGATE, str(broadcast.id), _snapshot(broadcast), conn)
        await _start(broadcast, conn)
    return broadcast


async def cancel_broadcast(actor: Actor, broadcast_id: UUID) -> Broadcast:
    """Stop it: before its time nothing is sent; while sending, the batch under way is the
    last; a yearly one sends no more."""
    require(actor, Resource.BROADCASTS, Access.WRITE)
    async with in_transaction() as conn:
        broadcast = await locked_in_agency(Broadcast, actor, conn, id=broadcast_id)
        if broadcast is None:
            raise DomainError(BroadcastErrorCode.NOT_FOUND, "No such broadcast.", "id")
        if broadcast.status in (BroadcastStatus.SENT, BroadcastStatus.CANCELLED):
            raise DomainError(
                BroadcastErrorCode.NOT_CANCELLABLE,
                f"The broadcast is {broadcast.status} already.",
                "id",
            )
        before = broadcast.status
        broadcast.status = BroadcastStatus.CANCELLED
        await broadcast.save(using_db=conn, update_fields=["status", "updated_at"])
        await record_updated(
            actor, AGGREGATE, str(broadcast.id), {"status": before}, {"status": "cancelled"}, conn
        )
        await enqueue(
            actor.agency_id,
            OutboxKind.CANCEL_BROADCAST,
            workflow_id_for(broadcast),
            {"recurrence": broadcast.recurrence},
            conn,
        )
    return broadcast


async def list_broadcasts(actor: Actor) -> list[Broadcast]:
    require(actor, Resource.BROADCASTS, Access.READ)
    return await Broadcast.filter(agency_id=actor.agency_id).order_by("-created_at")


async def get_broadcast(actor: Actor, broadcast_id: UUID) -> Broadcast:
    require(actor, Resource.BROADCASTS, Access.READ)
    broadcast = await Broadcast.get_or_none(agency_id=actor.agency_id, id=broadcast_id)
    if broadcast is None:
        raise DomainError(BroadcastErrorCode.NOT_FOUND, "No such broadcast.", "id")
    return broadcast


async def runs_of(actor: Actor, broadcast_id: UUID) -> list[BroadcastRun]:
    """Its sendings, newest first, with their counts (read while one is under way too)."""
    require(actor, Resource.BROADCASTS, Access.READ)
    return await BroadcastRun.filter(agency_id=actor.agency_id, broadcast_id=broadcast_id).order_by(
        "-occurrence"
    )
