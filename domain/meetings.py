"""Meeting service: a sales person proposes time slots to a contact, the contact books one on
the booking page, and the owner records how it went (held, no-show), moves or cancels it.

Every message goes through `domain.messages` (consent, footer, the message row): the proposal
is a sales message with the signed booking link, the invitations (`REQUEST`, and `CANCEL`)
are transactional messages with a calendar part, to the contact and to the owner (a copy to
the user, as notification emails are). A booked meeting has a reminder: a `MeetingReminder`
run started through the outbox, one per invitation revision (`sequence`), so a new time
starts a new reminder and cancels the old one.

Double booking. Booking locks the meeting row, then the owner's user row, before it reads the
owner's booked meetings: two contacts picking at once (the same meeting, or two meetings of
one owner at overlapping times) are served one after the other, and the second finds the
first's meeting (SQLite gets the same from its single writer: transactions begin IMMEDIATE).
Proposing and rescheduling take the owner's lock too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.deals import Deal
from db.leads import Lead
from db.meetings import Meeting as Meeting
from db.meetings import MeetingSlot as MeetingSlot
from db.messages import Message
from db.users import User
from domain.actors import Actor
from domain.audit import changed_fields
from domain.contact_behaviour import note_behaviour
from domain.errors import DomainError, input_errors
from domain.field_types import RequiredName, input_codes
from domain.lead_scoring_rules import Behaviour
from domain.lifecycles import apply_event
from domain.lifecycles.meeting import MeetingLifecycle
from domain.meeting_invitations import Attendee, InvitationDetails, InvitationMethod, invitation
from domain.message_kinds import TemplateKind
from domain.message_rendering import TemplateParts
from domain.messages import MessageRequest, queue_for_delivery
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user
from domain.outbox import OutboxKind, enqueue
from domain.pagination import Ordering, Page, keyset_page
from domain.policies import scope
from domain.record_changes import record_created, record_transitioned
from domain.roles import Access, Resource, RowScope
from domain.sales_records import check_owner, locked, scoped, ticket_visible
from domain.signed_links import LinkPurpose

AGGREGATE = "meeting"
MAX_SLOTS = 10
REMINDER_BEFORE = timedelta(hours=1)
# The workflow ids of a meeting's reminder: one per invitation revision.
REMINDER_WORKFLOW = "meeting-reminder-{meeting_id}-{sequence}"


class MeetingErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    GUARD_FAILED = "GUARD_FAILED"
    IN_THE_PAST = "IN_THE_PAST"
    SLOT_OVERLAPS = "SLOT_OVERLAPS"
    NO_ADDRESS = "NO_ADDRESS"
    TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND"
    NOT_PUBLISHED = "NOT_PUBLISHED"


# No slot at all is a missing answer, like an empty name.
_CODES = {**input_codes(MeetingErrorCode), "too_short": MeetingErrorCode.REQUIRED}


class ProposeMeeting(BaseModel):
    """What a sales person proposes: 1 to 10 start times, a duration, a place or a video
    link, and the message template of the proposal (a default text without one)."""

    model_config = ConfigDict(extra="forbid")

    contact_id: UUID
    lead_id: UUID | None = None
    deal_id: UUID | None = None
    calling_task_id: UUID | None = None
    ticket_id: UUID | None = None
    owner_id: UUID | None = None
    title: RequiredName
    slots: list[datetime] = Field(min_length=1, max_length=MAX_SLOTS)
    duration_minutes: int = Field(ge=5, le=8 * 60)
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    template: Annotated[str, StringConstraints(strip_whitespace=True, max_length=63)] = ""


class MeetingFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status_in: list[str] | None = None
    owner_id: UUID | None = None
    contact_id: UUID | None = None
    lead_id: UUID | None = None
    deal_id: UUID | None = None
    calling_task_id: UUID | None = None
    ticket_id: UUID | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None


class MeetingOrderField(StrEnum):
    CREATED_AT = "created_at"
    STARTS_AT = "starts_at"


NEWEST_FIRST = Ordering(MeetingOrderField.CREATED_AT, descending=True)


def snapshot(meeting: Meeting) -> dict[str, Any]:
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "id": str(meeting.id),
        "title": meeting.title,
        "owner_id": text(meeting.owner_id),
        "contact_id": text(meeting.contact_id),
        "lead_id": text(meeting.lead_id),
        "deal_id": text(meeting.deal_id),
        "calling_task_id": text(meeting.calling_task_id),
        "ticket_id": text(meeting.ticket_id),
        "location": meeting.location,
        "duration_minutes": meeting.duration_minutes,
        "starts_at": meeting.starts_at.isoformat() if meeting.starts_at else None,
        "ends_at": meeting.ends_at.isoformat() if meeting.ends_at else None,
        "sequence": meeting.sequence,
        "status": meeting.status,
    }


def _utc(moment: datetime) -> datetime:
    """A naive time is UTC (as everywhere in the API)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _scoped(actor: Actor) -> QuerySet[Meeting]:
    return scoped(Meeting, actor)


def _not_found(meeting_id: UUID) -> DomainError:
    return DomainError(MeetingErrorCode.NOT_FOUND, f"No meeting with id {meeting_id}.", "id")


async def get_meeting(actor: Actor, meeting_id: UUID) -> Meeting:
    meeting = await _scoped(actor).get_or_none(id=meeting_id)
    if meeting is None:
        raise _not_found(meeting_id)
    return meeting


async def list_meetings(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering = NEWEST_FIRST,
) -> Page[Meeting]:
    """The meetings the actor may read (the owner's, as other sales records), filtered."""
    query = _scoped(actor)
    if criteria:
        try:
            where = MeetingFilter.model_validate(criteria)
        except ValidationError as exc:
            raise input_errors(exc, _CODES, MeetingErrorCode.INVALID) from exc
        exact = ("owner_id", "contact_id", "lead_id", "deal_id", "calling_task_id", "ticket_id")
        query = query.filter(
            **{name: getattr(where, name) for name in exact if getattr(where, name) is not None}
        )
        if where.status_in is not None:
            query = query.filter(status__in=where.status_in)
        if where.starts_after is not None:
            query = query.filter(starts_at__gte=where.starts_after)
        if where.starts_before is not None:
            query = query.filter(starts_at__lt=where.starts_before)
    if ordering.field == MeetingOrderField.STARTS_AT:
        query = query.filter(starts_at__isnull=False)  # a proposed meeting has no time yet
    return await keyset_page(query, ordering, first, after)


async def meetings_of_tickets(
    actor: Actor, ticket_ids: Sequence[UUID]
) -> dict[UUID, list[Meeting]]:
    """The meetings linked to tickets the actor has been shown, those the actor may read, in
    one query, earliest first (unbooked ones last)."""
    if scope(actor, Resource.SALES_RECORDS, Access.READ) is RowScope.NONE:
        return {}
    found: dict[UUID, list[Meeting]] = {}
    linked = _scoped(actor).filter(ticket_id__in=list(ticket_ids))
    for meeting in await linked.order_by("starts_at", "created_at", "id"):
        if meeting.ticket_id is not None:
            found.setdefault(meeting.ticket_id, []).append(meeting)
    return found


async def slots_of_meetings(
    actor: Actor, meeting_ids: Sequence[UUID]
) -> dict[UUID, list[MeetingSlot]]:
    """The slots of meetings the actor has been shown, in one query, earliest first."""
    found: dict[UUID, list[MeetingSlot]] = {}
    slots = MeetingSlot.filter(agency_id=actor.agency_id, meeting_id__in=list(meeting_ids))
    for slot in await slots.order_by("starts_at", "id"):
        found.setdefault(slot.meeting_id, []).append(slot)
    return found


async def slots_of(meeting: Meeting, conn: BaseDBAsyncClient | None = None) -> list[MeetingSlot]:
    return await MeetingSlot.filter(meeting_id=meeting.id).using_db(conn).order_by("starts_at")


async def _lock_owner(agency_id: UUID, owner_id: UUID, conn: BaseDBAsyncClient) -> User:
    """The owner's row, locked: the owner's calendar changes one transaction at a time."""
    query = User.filter(agency_id=agency_id, id=owner_id).using_db(conn)
    return await query.select_for_update().get()


async def _overlapping(
    agency_id: UUID,
    owner_id: UUID,
    starts_at: datetime,
    ends_at: datetime,
    conn: BaseDBAsyncClient,
    other_than: UUID | None = None,
) -> bool:
    """Whether the owner has a booked meeting overlapping [starts_at, ends_at)."""
    query = Meeting.filter(
        agency_id=agency_id,
        owner_id=owner_id,
        status="booked",
        deleted_at__isnull=True,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if other_than is not None:
        query = query.exclude(id=other_than)
    return bool(await query.using_db(conn).exists())


async def open_slots(meeting: Meeting, now: datetime | None = None) -> list[MeetingSlot]:
    """The slots the contact may still pick: not past, not filled by another meeting since."""
    moment = now or datetime.now(UTC)
    if meeting.status != "proposed" or meeting.owner_id is None:
        return []
    booked = await Meeting.filter(
        agency_id=meeting.agency_id,
        owner_id=meeting.owner_id,
        status="booked",
        deleted_at__isnull=True,
        ends_at__gt=moment,
    ).values_list("starts_at", "ends_at")
    return [
        slot
        for slot in await slots_of(meeting)
        if slot.starts_at > moment
        and not any(start < slot.ends_at and end > slot.starts_at for start, end in booked)
    ]


def local_time(meeting: Meeting, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(meeting.time_zone))


def describe_slot(meeting: Meeting, starts_at: datetime, ends_at: datetime) -> str:
    """`Monday 14 December 2026, 10:00-10:30 (Europe/London)`: in the meeting's time zone."""
    start, end = local_time(meeting, starts_at), local_time(meeting, ends_at)
    return f"{start:%A %d %B %Y, %H:%M}\u2013{end:%H:%M} ({meeting.time_zone})"


# --- propose ---------------------------------------------------------------------------------


def _parse(data: dict[str, Any]) -> ProposeMeeting:
    try:
        return ProposeMeeting.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, _CODES, MeetingErrorCode.INVALID) from exc


def _slot_times(command: ProposeMeeting, now: datetime) -> list[tuple[datetime, datetime]]:
    """Each slot's start and end, every one in the future and none overlapping another."""
    length = timedelta(minutes=command.duration_minutes)
    times = [(_utc(start), _utc(start) + length) for start in command.slots]
    for position, (start, end) in enumerate(times):
        if start <= now:
            raise DomainError(
                MeetingErrorCode.IN_THE_PAST, "A slot must be in the future.", f"slots.{position}"
            )
        for other_start, other_end in times[:position]:
            if start < other_end and end > other_start:
                raise DomainError(
                    MeetingErrorCode.SLOT_OVERLAPS,
                    "Slots of one meeting must not overlap each other.",
                    f"slots.{position}",
                )
    return times


async def _check_links(actor: Actor, command: ProposeMeeting, conn: BaseDBAsyncClient) -> Contact:
    """The contact (which the actor may change) and the lead, deal or task it is about."""
    contact = await locked(Contact, actor, command.contact_id, conn, MeetingErrorCode, "contact")
    for field, model, value in (
        ("lead_id", Lead, command.lead_id),
        ("deal_id", Deal, command.deal_id),
    ):
        if (
            value is not None
            and not await scoped(model, actor).using_db(conn).filter(id=value).exists()
        ):
            raise DomainError(MeetingErrorCode.NOT_FOUND, f"No such {field[:-3]}.", field)
    if command.calling_task_id is not None:
        tasks = scoped(CallingTask, actor, owner_field="assignee_id").using_db(conn)
        if not await tasks.filter(id=command.calling_task_id).exists():
            raise DomainError(
                MeetingErrorCode.NOT_FOUND, "No such calling task.", "calling_task_id"
            )
    if command.ticket_id is not None and not await ticket_visible(actor, command.ticket_id, conn):
        raise DomainError(MeetingErrorCode.NOT_FOUND, "No such ticket.", "ticket_id")
    if not contact.emails:
        raise DomainError(
            MeetingErrorCode.NO_ADDRESS, "The contact has no email address.", "contact_id"
        )
    return contact


async def propose_meeting(actor: Actor, data: dict[str, Any]) -> Meeting:
    """A proposed meeting with its slots, and the proposal (with the booking link) queued to
    the contact, in one transaction. The owner is the proposer (an API key: the contact's)."""
    command = _parse(data)
    now = datetime.now(UTC)
    times = _slot_times(command, now)
    async with in_transaction() as conn:
        contact = await _check_links(actor, command, conn)
        owner_id = command.owner_id or actor.user_id or contact.owner_id
        if owner_id is None:
            raise DomainError(MeetingErrorCode.REQUIRED, "Say who meets the contact.", "owner_id")
        await check_owner(actor, owner_id, MeetingErrorCode, "meetings")
        owner = await _lock_owner(actor.agency_id, owner_id, conn)
        for position, (start, end) in enumerate(times):
            if await _overlapping(actor.agency_id, owner_id, start, end, conn):
                raise DomainError(
                    MeetingErrorCode.SLOT_OVERLAPS,
                    "You have a booked meeting at that time.",
                    f"slots.{position}",
                )
        agency = await Agency.filter(id=actor.agency_id).using_db(conn).get()
        meeting = Meeting(
            agency_id=actor.agency_id,
            owner_id=owner_id,
            contact_id=contact.id,
            lead_id=command.lead_id,
            deal_id=command.deal_id,
            calling_task_id=command.calling_task_id,
            ticket_id=command.ticket_id,
            title=command.title,
            location=command.location,
            duration_minutes=command.duration_minutes,
            template_key=command.template,
            # Contacts have no time zone of their own: the agency's is theirs.
            time_zone=agency.time_zone,
        )
        await meeting.save(using_db=conn)
        await MeetingSlot.bulk_create(
            [
                MeetingSlot(
                    agency_id=actor.agency_id, meeting_id=meeting.id, starts_at=s, ends_at=e
                )
                for s, e in times
            ],
            using_db=conn,
        )
        after = {**snapshot(meeting), "slots": [s.isoformat() for s, _ in times]}
        await record_created(
            actor, AGGREGATE, str(meeting.id), after, conn, event_type=f"{AGGREGATE}.proposed"
        )
        await _queue_proposal(actor, meeting, owner, times, conn)
    return meeting


async def _queue_proposal(
    actor: Actor,
    meeting: Meeting,
    owner: User,
    times: list[tuple[datetime, datetime]],
    conn: BaseDBAsyncClient,
) -> None:
    text: TemplateParts | None = None
    if not meeting.template_key:
        lines = "\n".join(f"- {describe_slot(meeting, s, e)}" for s, e in times)
        place = f"\nWhere: {meeting.location}\n" if meeting.location else ""
        text = TemplateParts(
            f"{meeting.title}: pick a time",
            f"Hello,\n\n{owner.name} would like to meet you ({meeting.title}). "
            f"These times suit them:\n\n{lines}\n{place}\nPick the one that suits you "
            "with the link below.\n",
        )
    try:
        await queue_for_delivery(
            actor,
            MessageRequest(
                record_type="contact",
                record_id=str(meeting.contact_id),
                idempotency_key=f"meeting:{meeting.id}:proposal",
                source=f"meeting:{meeting.id}",
                template_key=meeting.template_key,
                text=text,
                page_link=(LinkPurpose.BOOKING, str(meeting.id)),
            ),
            conn,
        )
    except DomainError as exc:  # the template's codes are the meeting's, on its own field
        code = MeetingErrorCode.__members__.get(str(exc.code), MeetingErrorCode.INVALID)
        raise DomainError(code, exc.message, "template") from exc


# --- book (the contact, on the booking page) -------------------------------------------------


class BookingOutcome(StrEnum):
    BOOKED = "booked"
    NOT_OPEN = "not_open"  # no longer proposed: booked, cancelled or over
    SLOT_GONE = "slot_gone"  # past, or filled since


@dataclass(frozen=True)
class Booking:
    outcome: BookingOutcome
    meeting: Meeting


async def book_meeting(meeting_id: UUID, slot_id: int, now: datetime | None = None) -> Booking:
    """Book one of the meeting's open slots, once: the meeting is row-locked, then its owner."""
    moment = now or datetime.now(UTC)
    async with in_transaction() as conn:
        meeting = (
            await Meeting.filter(id=meeting_id, deleted_at__isnull=True)
            .using_db(conn)
            .select_for_update()
            .get()
        )
        if meeting.status != "proposed" or meeting.owner_id is None:
            return Booking(BookingOutcome.NOT_OPEN, meeting)
        slot = await MeetingSlot.filter(id=slot_id, meeting_id=meeting.id).using_db(conn).first()
        owner = await _lock_owner(meeting.agency_id, meeting.owner_id, conn)
        if (
            slot is None
            or slot.starts_at <= moment
            or await _overlapping(
                meeting.agency_id, meeting.owner_id, slot.starts_at, slot.ends_at, conn
            )
        ):
            return Booking(BookingOutcome.SLOT_GONE, meeting)
        actor = Actor.system(meeting.agency_id, "booking")
        before = snapshot(meeting)
        await apply_event(MeetingLifecycle, meeting, "book", MeetingErrorCode.INVALID_TRANSITION)
        meeting.starts_at, meeting.ends_at = slot.starts_at, slot.ends_at
        await meeting.save(using_db=conn)
        await _announce(actor, meeting, "book", before, conn)
        await _invite(actor, meeting, owner, InvitationMethod.REQUEST, conn)
        await _start_reminder(meeting, conn)
    return Booking(BookingOutcome.BOOKED, meeting)


# --- the owner's events ----------------------------------------------------------------------


async def _locked(actor: Actor, meeting_id: UUID, conn: BaseDBAsyncClient) -> Meeting:
    return await locked(Meeting, actor, meeting_id, conn, MeetingErrorCode, "meeting")


async def _owner(meeting: Meeting, conn: BaseDBAsyncClient) -> User:
    assert meeting.owner_id is not None
    return await _lock_owner(meeting.agency_id, meeting.owner_id, conn)


async def _transition(actor: Actor, meeting_id: UUID, event: str) -> Meeting:
    """Hold or no-show: the meeting is over; its reminder is not needed any more."""
    async with in_transaction() as conn:
        meeting = await _locked(actor, meeting_id, conn)
        before = snapshot(meeting)
        await apply_event(MeetingLifecycle, meeting, event, MeetingErrorCode.INVALID_TRANSITION)
        await meeting.save(using_db=conn)
        await _announce(actor, meeting, event, before, conn)
        await _cancel_reminder(meeting, meeting.sequence, conn)
    return meeting


async def hold_meeting(actor: Actor, meeting_id: UUID) -> Meeting:
    return await _transition(actor, meeting_id, "hold")


async def mark_meeting_no_show(actor: Actor, meeting_id: UUID) -> Meeting:
    return await _transition(actor, meeting_id, "mark_no_show")


async def cancel_meeting(actor: Actor, meeting_id: UUID) -> Meeting:
    """Cancelled: a booked one's invitation is withdrawn (`METHOD:CANCEL`, same UID, next
    SEQUENCE) on both sides and its reminder stops; a proposed one's link books nothing."""
    async with in_transaction() as conn:
        meeting = await _locked(actor, meeting_id, conn)
        was_booked = meeting.status == "booked"
        before = snapshot(meeting)
        await apply_event(MeetingLifecycle, meeting, "cancel", MeetingErrorCode.INVALID_TRANSITION)
        if was_booked:
            meeting.sequence += 1
        await meeting.save(using_db=conn)
        await _announce(actor, meeting, "cancel", before, conn)
        if was_booked:
            await _invite(
                actor, meeting, await _owner(meeting, conn), InvitationMethod.CANCEL, conn
            )
            await _cancel_reminder(meeting, meeting.sequence - 1, conn)
    return meeting


async def reschedule_meeting(actor: Actor, meeting_id: UUID, starts_at: datetime) -> Meeting:
    """A booked meeting at a new time (its length kept): the invitation is sent again with the
    next SEQUENCE, and the reminder moves."""
    start = _utc(starts_at)
    async with in_transaction() as conn:
        meeting = await _locked(actor, meeting_id, conn)
        before = snapshot(meeting)
        await apply_event(
            MeetingLifecycle, meeting, "reschedule", MeetingErrorCode.INVALID_TRANSITION
        )
        if start <= datetime.now(UTC):
            raise DomainError(
                MeetingErrorCode.IN_THE_PAST, "The new time must be in the future.", "starts_at"
            )
        owner = await _owner(meeting, conn)
        end = start + timedelta(minutes=meeting.duration_minutes)
        if await _overlapping(meeting.agency_id, owner.id, start, end, conn, meeting.id):
            raise DomainError(
                MeetingErrorCode.SLOT_OVERLAPS,
                "The owner has another booked meeting at that time.",
                "starts_at",
            )
        meeting.starts_at, meeting.ends_at = start, end
        meeting.sequence += 1
        await meeting.save(using_db=conn)
        await _announce(actor, meeting, "reschedule", before, conn)
        await _invite(actor, meeting, owner, InvitationMethod.REQUEST, conn)
        await _cancel_reminder(meeting, meeting.sequence - 1, conn)
        await _start_reminder(meeting, conn)
    return meeting


# --- what a change writes --------------------------------------------------------------------

# Lifecycle event -> the domain event it is announced as (`meeting.<what happened>`).
EVENT_TYPES = {
    "book": "meeting.booked",
    "reschedule": "meeting.rescheduled",
    "hold": "meeting.held",
    "mark_no_show": "meeting.no_show",
    "cancel": "meeting.cancelled",
}


async def _announce(
    actor: Actor, meeting: Meeting, event: str, before: dict[str, Any], conn: BaseDBAsyncClient
) -> None:
    """The audit row and the `meeting.<what happened>` event; the contact's flow runs hear it
    (`domain.flow_triggers`)."""
    after = snapshot(meeting)
    change = {
        "event": event,
        "from": before["status"],
        "to": meeting.status,
        "contact_id": after["contact_id"],
        "starts_at": after["starts_at"],
        "ends_at": after["ends_at"],
    }
    await record_transitioned(
        actor,
        AGGREGATE,
        str(meeting.id),
        event,
        changed_fields(before, after),
        change,
        conn,
        event_type=EVENT_TYPES[event],
    )
    if event == "hold" and meeting.contact_id is not None:
        held_at = meeting.ends_at or datetime.now(UTC)
        await note_behaviour(
            meeting.agency_id,
            meeting.contact_id,
            Behaviour.MEETING_HELD,
            str(meeting.id),
            min(held_at, datetime.now(UTC)),
            conn,
        )


async def _invite(
    actor: Actor,
    meeting: Meeting,
    owner: User,
    method: InvitationMethod,
    conn: BaseDBAsyncClient,
) -> None:
    """The invitation (or its withdrawal) to the contact, and the owner's copy to the user."""
    contact = await Contact.filter(id=meeting.contact_id).using_db(conn).get()
    address = next(iter(contact.emails), "")
    assert meeting.starts_at is not None
    assert meeting.ends_at is not None
    details = InvitationDetails(
        meeting_id=meeting.id,
        sequence=meeting.sequence,
        title=meeting.title,
        location=meeting.location,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        organizer=Attendee(owner.name, owner.email),
        attendee=Attendee(f"{contact.first_name} {contact.last_name}".strip(), address),
    )
    calendar = invitation(details, method)
    when = describe_slot(meeting, meeting.starts_at, meeting.ends_at)
    place = f"\nWhere: {meeting.location}" if meeting.location else ""
    if method is InvitationMethod.CANCEL:
        subject, body = f"Cancelled: {meeting.title}", f"This meeting is cancelled: {when}."
    elif meeting.sequence:
        subject, body = f"New time: {meeting.title}", f"This meeting has moved to {when}.{place}"
    else:
        subject, body = f"Booked: {meeting.title}", f"This meeting is booked: {when}.{place}"
    key = f"meeting:{meeting.id}:{meeting.sequence}:{method.lower()}"
    # The contact's, to the contact's own address (its consent applies); the owner's copy to
    # the user's address, as notification emails are.
    owner_text = f"{body}\nWith: {details.attendee.name} <{address}>\n"
    copies: list[tuple[str, str, UUID, str, list[str]]] = [
        ("contact", "contact", meeting.contact_id, f"Hello {contact.first_name},\n\n{body}\n", []),
        ("owner", "user", owner.id, owner_text, [owner.email]),
    ]
    for side, record_type, record_id, text, recipients in copies:
        await queue_for_delivery(
            actor,
            MessageRequest(
                record_type=record_type,
                record_id=str(record_id),
                idempotency_key=f"{key}:{side}",
                source=f"meeting:{meeting.id}",
                text=TemplateParts(subject, text),
                kind=TemplateKind.TRANSACTIONAL,
                recipients=recipients,
                to_record=not recipients,
                calendar=calendar,
            ),
            conn,
        )


def reminder_workflow_id(meeting_id: UUID, sequence: int) -> str:
    return REMINDER_WORKFLOW.format(meeting_id=meeting_id, sequence=sequence)


async def _start_reminder(meeting: Meeting, conn: BaseDBAsyncClient) -> None:
    assert meeting.starts_at is not None
    await enqueue(
        meeting.agency_id,
        OutboxKind.START_MEETING_REMINDER,
        reminder_workflow_id(meeting.id, meeting.sequence),
        {
            "meeting_id": str(meeting.id),
            "sequence": meeting.sequence,
            "remind_at": (meeting.starts_at - REMINDER_BEFORE).isoformat(),
        },
        conn,
    )


async def _cancel_reminder(meeting: Meeting, sequence: int, conn: BaseDBAsyncClient) -> None:
    workflow_id = reminder_workflow_id(meeting.id, sequence)
    await enqueue(meeting.agency_id, OutboxKind.CANCEL_MEETING_REMINDER, workflow_id, {}, conn)


async def remind_of_meeting(meeting_id: UUID, sequence: int) -> bool:
    """Inside the reminder's activity: tell the contact (a transactional message) and the
    owner (a `REMINDER` notification), once, if the meeting is still booked at that time.
    Whether a reminder went out."""
    async with in_transaction() as conn:
        meeting = await Meeting.filter(id=meeting_id).using_db(conn).select_for_update().first()
        if meeting is None or meeting.status != "booked" or meeting.sequence != sequence:
            return False
        assert meeting.starts_at is not None
        assert meeting.ends_at is not None
        key = f"meeting:{meeting.id}:{sequence}:reminder"
        if await Message.filter(idempotency_key=key).using_db(conn).exists():
            return True  # a retried activity: the reminder went out
        actor = Actor.system(meeting.agency_id, "meetings")
        when = describe_slot(meeting, meeting.starts_at, meeting.ends_at)
        place = f"\nWhere: {meeting.location}" if meeting.location else ""
        await queue_for_delivery(
            actor,
            MessageRequest(
                record_type="contact",
                record_id=str(meeting.contact_id),
                idempotency_key=key,
                source=f"meeting:{meeting.id}",
                text=TemplateParts(
                    f"Reminder: {meeting.title}",
                    f"A reminder of our meeting: {when}.{place}\n",
                ),
                kind=TemplateKind.TRANSACTIONAL,
            ),
            conn,
        )
        if meeting.owner_id is not None:
            await notify_user(
                actor,
                meeting.owner_id,
                f"Reminder: {meeting.title}, {when}.",
                AGGREGATE,
                str(meeting.id),
                f"meeting:{meeting.id}",
                conn,
                NotificationKind.REMINDER,
            )
    return True
