"""Meetings against real databases and a real SMTP server: proposed with slots, booked once
under concurrency, moved and cancelled with calendar invitations parsed back with icalendar,
overlaps refused, and a reminder on the time-skipping test server."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from icalendar import Calendar

from db.events import Event
from db.messages import Message
from db.notifications import Notification
from db.outbox import OutboxMessage
from domain import contacts, meetings, message_templates, users
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.errors import DomainError
from domain.event_visibility import visible_events
from domain.meetings import BookingOutcome, Meeting
from domain.messages import deliver_message
from domain.outbox import OutboxKind
from domain.roles import Role
from domain.signed_links import LinkPurpose, subject_of
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.flows import Flows
from tests.fixtures.messaging import TEST_LINKS
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.usefixtures("db")

SALES_EMAIL = "sam@acme.example.com"


@dataclass
class Desk:
    """An agency, its sales person (as an actor) and one of their contacts."""

    admin: Actor
    sales: Actor
    contact_id: uuid.UUID

    @property
    def owner_id(self) -> uuid.UUID:
        assert self.sales.user_id is not None
        return self.sales.user_id


async def a_desk(agency_id: uuid.UUID | None = None) -> Desk:
    if agency_id is None:
        agency, _, _ = await bootstrap_agency(
            "Acme Sales",
            f"acme-{uuid.uuid4().hex[:8]}",
            f"admin-{uuid.uuid4().hex[:6]}@acme.example.com",
            "Ann Admin",
            "long enough password",
        )
        agency_id = agency.id
    admin = Actor.system(agency_id, "test")
    user = await users.create_user(
        admin,
        {
            "email": f"sam-{uuid.uuid4().hex[:6]}@acme.example.com",
            "name": "Sam Sales",
            "password": "long enough password",
            "roles": [Role.SALES_PERSON],
        },
    )
    sales = Actor(
        agency_id=agency_id,
        id=f"user:{user.id}",
        user_id=user.id,
        roles=frozenset({Role.SALES_PERSON}),
        team=frozenset({user.id}),
    )
    contact = await contacts.create_contact(
        admin,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "emails": ["ada@example.com"],
            "owner_id": user.id,
        },
    )
    return Desk(admin, sales, contact.id)


def hours_from_now(hours: float) -> datetime:
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return moment.replace(minute=0, second=0, microsecond=0)


async def propose(desk: Desk, *starts: datetime, minutes: int = 30) -> Meeting:
    return await meetings.propose_meeting(
        desk.sales,
        {
            "contact_id": desk.contact_id,
            "title": "Introduction",
            "slots": list(starts),
            "duration_minutes": minutes,
            "location": "https://video.example.com/room-1",
        },
    )


async def slot_ids(meeting: Meeting) -> list[int]:
    return [slot.id for slot in await meetings.slots_of(meeting)]


async def deliver_all(smtp_server: SmtpServer) -> None:
    for message in await Message.filter(status="queued").order_by("id"):
        await deliver_message(smtp_server.config(), TEST_LINKS, message.id)


def calendar_of(email: EmailMessage) -> tuple[str, Calendar]:
    """The content type's method and the parsed calendar of an email's text/calendar part."""
    parts = [part for part in email.walk() if part.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [part.get_content_type() for part in email.walk()]
    method = parts[0].get_param("method")
    assert isinstance(method, str)
    return method, Calendar.from_ical(parts[0].get_content())


def sent_to(smtp_server: SmtpServer, address: str) -> list[EmailMessage]:
    return [m.message for m in smtp_server.messages if address in m.rcpt_tos]


async def test_a_proposal_emails_the_contact_a_signed_link_to_pick_a_time(
    smtp_server: SmtpServer,
) -> None:
    desk = await a_desk()
    first, second = hours_from_now(48), hours_from_now(72)

    meeting = await propose(desk, first, second)
    await deliver_all(smtp_server)

    assert meeting.status == "proposed"
    assert meeting.owner_id == desk.owner_id
    assert [s.starts_at for s in await meetings.slots_of(meeting)] == [first, second]
    [email] = sent_to(smtp_server, "ada@example.com")
    text = email.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "Sam Sales would like to meet you (Introduction)" in body
    link = next(line for line in body.splitlines() if "https://crm.test/book/" in line)
    token = link.rsplit("/", 1)[1].strip()
    assert subject_of(TEST_LINKS, LinkPurpose.BOOKING, token) == str(meeting.id)
    stored = await Message.get(idempotency_key=f"meeting:{meeting.id}:proposal")
    assert "crm.test/book" not in stored.text_body  # signed when sent, never stored
    event = await Event.get(aggregate_type="meeting", aggregate_id=str(meeting.id))
    assert event.type == "meeting.proposed"


async def test_booking_sends_both_sides_an_invitation_and_starts_a_reminder(
    smtp_server: SmtpServer,
) -> None:
    desk = await a_desk()
    start = hours_from_now(30)
    meeting = await propose(desk, start, hours_from_now(54))
    smtp_server.messages.clear()

    booking = await meetings.book_meeting(meeting.id, (await slot_ids(meeting))[0])
    await Message.filter(idempotency_key=f"meeting:{meeting.id}:proposal").delete()
    await deliver_all(smtp_server)

    assert booking.outcome is BookingOutcome.BOOKED
    assert (booking.meeting.status, booking.meeting.starts_at) == ("booked", start)
    owner = await users.get_user(desk.admin, desk.owner_id)
    for address in ("ada@example.com", owner.email):
        [email] = sent_to(smtp_server, address)
        assert email["Subject"] == "Booked: Introduction"
        method, calendar = calendar_of(email)
        assert method == "REQUEST"
        assert calendar["METHOD"] == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert str(event["UID"]) == f"meeting-{meeting.id}@crm"
        assert event.decoded("SEQUENCE") == 0
        assert event.decoded("DTSTART") == start
        assert event.decoded("DTEND") == start + timedelta(minutes=30)
        assert str(event["ORGANIZER"]) == f"mailto:{owner.email}"
        assert str(event["ATTENDEE"]) == "mailto:ada@example.com"
        assert str(event["LOCATION"]) == "https://video.example.com/room-1"
    invitation = await Message.get(idempotency_key=f"meeting:{meeting.id}:0:request:contact")
    assert (invitation.kind, invitation.record_type) == ("transactional", "contact")
    reminder = await OutboxMessage.get(kind=OutboxKind.START_MEETING_REMINDER)
    assert reminder.workflow_id == f"meeting-reminder-{meeting.id}-0"
    assert reminder.payload["remind_at"] == (start - timedelta(hours=1)).isoformat()
    types = [e.type for e in await Event.filter(aggregate_id=str(meeting.id)).order_by("id")]
    assert types == ["meeting.proposed", "meeting.booked"]


async def test_rescheduling_and_cancelling_update_the_same_invitation(
    smtp_server: SmtpServer,
) -> None:
    desk = await a_desk()
    meeting = await propose(desk, hours_from_now(30))
    await meetings.book_meeting(meeting.id, (await slot_ids(meeting))[0])
    later = hours_from_now(80)

    moved = await meetings.reschedule_meeting(desk.sales, meeting.id, later)
    cancelled = await meetings.cancel_meeting(desk.sales, meeting.id)
    await deliver_all(smtp_server)

    assert (moved.starts_at, cancelled.status, cancelled.sequence) == (later, "cancelled", 2)
    emails = sent_to(smtp_server, "ada@example.com")
    assert [e["Subject"] for e in emails] == [
        "Introduction: pick a time",
        "Booked: Introduction",
        "New time: Introduction",
        "Cancelled: Introduction",
    ]
    seen = []
    for email in emails[1:]:
        method, calendar = calendar_of(email)
        [event] = calendar.walk("VEVENT")
        seen.append(
            (method, str(event["UID"]), event.decoded("SEQUENCE"), event.decoded("DTSTART"))
        )
    uid = f"meeting-{meeting.id}@crm"
    assert seen[1:] == [("REQUEST", uid, 1, later), ("CANCEL", uid, 2, later)]
    outbox = await OutboxMessage.filter(
        kind__in=[OutboxKind.START_MEETING_REMINDER, OutboxKind.CANCEL_MEETING_REMINDER]
    ).order_by("id")
    assert [(m.kind, m.workflow_id.rsplit("-", 1)[1]) for m in outbox] == [
        (OutboxKind.START_MEETING_REMINDER, "0"),
        (OutboxKind.CANCEL_MEETING_REMINDER, "0"),
        (OutboxKind.START_MEETING_REMINDER, "1"),
        (OutboxKind.CANCEL_MEETING_REMINDER, "1"),
    ]
    with pytest.raises(DomainError) as refused:
        await meetings.hold_meeting(desk.sales, meeting.id)
    assert refused.value.code == meetings.MeetingErrorCode.INVALID_TRANSITION


async def test_held_and_no_show_are_the_owners_to_record() -> None:
    desk = await a_desk()
    held = await propose(desk, hours_from_now(30))
    missed = await propose(desk, hours_from_now(60))
    for meeting in (held, missed):
        await meetings.book_meeting(meeting.id, (await slot_ids(meeting))[0])

    assert (await meetings.hold_meeting(desk.sales, held.id)).status == "held"
    assert (await meetings.mark_meeting_no_show(desk.sales, missed.id)).status == "no_show"
    other = await a_desk(desk.admin.agency_id)
    with pytest.raises(DomainError) as hidden:
        await meetings.cancel_meeting(other.sales, held.id)
    assert hidden.value.code == meetings.MeetingErrorCode.NOT_FOUND
    types = [e.type for e in await Event.filter(type__in=["meeting.held", "meeting.no_show"])]
    assert sorted(types) == ["meeting.held", "meeting.no_show"]


async def test_a_slot_overlapping_the_owners_booked_meeting_is_refused_on_its_field() -> None:
    desk = await a_desk()
    start = hours_from_now(30)
    booked = await propose(desk, start, minutes=60)
    await meetings.book_meeting(booked.id, (await slot_ids(booked))[0])

    with pytest.raises(DomainError) as refused:
        await propose(desk, hours_from_now(50), start + timedelta(minutes=30))

    assert (refused.value.code, refused.value.field) == (
        meetings.MeetingErrorCode.SLOT_OVERLAPS,
        "slots.1",
    )
    assert await Meeting.all().count() == 1
    with pytest.raises(DomainError) as past:
        await propose(desk, datetime.now(UTC) - timedelta(hours=1))
    assert (past.value.code, past.value.field) == (meetings.MeetingErrorCode.IN_THE_PAST, "slots.0")


async def test_a_slot_the_owner_has_since_filled_is_no_longer_offered() -> None:
    desk = await a_desk()
    start = hours_from_now(30)
    first = await propose(desk, start, hours_from_now(50))
    second = await propose(desk, start + timedelta(minutes=15))

    await meetings.book_meeting(second.id, (await slot_ids(second))[0])

    open_slots = await meetings.open_slots(first)
    assert [s.starts_at for s in open_slots] == [hours_from_now(50)]
    booking = await meetings.book_meeting(first.id, (await slot_ids(first))[0])
    assert booking.outcome is BookingOutcome.SLOT_GONE
    assert booking.meeting.status == "proposed"


async def test_a_slot_picked_twice_at_once_books_once(db: OpenDatabase) -> None:
    desk = await a_desk()
    start = hours_from_now(30)
    meeting = await propose(desk, start, hours_from_now(50))
    # Another contact's meeting offers the same hour: picked at the same moment, one wins.
    rival = await propose(desk, start)
    first_slot = (await slot_ids(meeting))[0]
    rival_slot = (await slot_ids(rival))[0]

    outcomes = await asyncio.gather(
        *(meetings.book_meeting(meeting.id, first_slot) for _ in range(3)),
        meetings.book_meeting(rival.id, rival_slot),
    )

    booked = [o for o in outcomes if o.outcome is BookingOutcome.BOOKED]
    assert len(booked) == 1, [o.outcome for o in outcomes]
    assert await Meeting.filter(status="booked").count() == 1
    assert await Event.filter(type="meeting.booked").count() == 1
    invitations = await Message.filter(idempotency_key__contains=":request:contact").count()
    assert invitations == 1


async def test_the_reminder_goes_out_before_the_meeting_and_a_new_time_moves_it(
    flows: Flows,
) -> None:
    desk = await a_desk(flows.agency_id)
    meeting = await propose(desk, hours_from_now(30))
    await meetings.book_meeting(meeting.id, (await slot_ids(meeting))[0])
    later = hours_from_now(80)

    async with flows.worker():
        await flows.relay_all()
        await meetings.reschedule_meeting(desk.sales, meeting.id, later)
        await flows.relay_all()
        first = flows.client.get_workflow_handle(
            f"meeting-reminder-{meeting.id}-0", result_type=bool
        )
        second = flows.client.get_workflow_handle(
            f"meeting-reminder-{meeting.id}-1", result_type=bool
        )
        assert await flows.result(first) is False
        assert await flows.result(second) is True

    reminders = await Message.filter(idempotency_key__endswith=":reminder")
    assert [m.idempotency_key for m in reminders] == [f"meeting:{meeting.id}:1:reminder"]
    assert reminders[0].subject == "Reminder: Introduction"
    notice = await Notification.get(user_id=desk.owner_id, kind="reminder")
    assert notice.record_id == str(meeting.id)


async def test_a_proposal_cancelled_before_booking_sends_nothing_and_books_nothing(
    smtp_server: SmtpServer,
) -> None:
    desk = await a_desk()
    meeting = await propose(desk, hours_from_now(30))
    await Message.all().delete()  # the proposal

    cancelled = await meetings.cancel_meeting(desk.sales, meeting.id)
    booking = await meetings.book_meeting(meeting.id, (await slot_ids(meeting))[0])

    assert (cancelled.status, cancelled.sequence) == ("cancelled", 0)
    assert (booking.outcome, booking.meeting.status) == (BookingOutcome.NOT_OPEN, "cancelled")
    assert await Message.all().count() == 0
    assert await OutboxMessage.filter(kind=OutboxKind.CANCEL_MEETING_REMINDER).count() == 0


async def test_meeting_events_are_seen_as_the_owners_records_are() -> None:
    desk = await a_desk()
    colleague = await a_desk(desk.admin.agency_id)
    meeting = await propose(desk, hours_from_now(30))
    await meetings.book_meeting(meeting.id, (await slot_ids(meeting))[0])
    events = await Event.filter(aggregate_type="meeting").order_by("id")

    assert [e.type for e in await visible_events(desk.sales, events)] == [
        "meeting.proposed",
        "meeting.booked",
    ]
    assert await visible_events(colleague.sales, events) == []
    assert len(await visible_events(desk.admin, events)) == 2


async def test_a_proposal_from_a_template_carries_the_booking_link_in_text_and_html(
    smtp_server: SmtpServer,
) -> None:
    desk = await a_desk()
    await message_templates.seed_default_templates(
        desk.admin.agency_id,
        [
            {
                "key": "meeting-times",
                "name": "Meeting times",
                "kind": "sales",
                "subject": "Shall we meet, {{ recipient.first_name }}?",
                "text_body": "Hello {{ recipient.first_name }}, {{ owner.name }} has times.",
                "html_body": "<p>Hello {{ recipient.first_name }}, {{ owner.name }} has times.</p>",
            }
        ],
    )

    meeting = await meetings.propose_meeting(
        desk.sales,
        {
            "contact_id": desk.contact_id,
            "title": "Introduction",
            "slots": [hours_from_now(30)],
            "duration_minutes": 30,
            "template": "meeting-times",
        },
    )
    missing = meetings.propose_meeting(
        desk.sales,
        {
            "contact_id": desk.contact_id,
            "title": "Introduction",
            "slots": [hours_from_now(40)],
            "duration_minutes": 30,
            "template": "no-such-template",
        },
    )
    with pytest.raises(DomainError) as refused:
        await missing
    await deliver_all(smtp_server)

    assert (refused.value.code, refused.value.field) == (
        meetings.MeetingErrorCode.TEMPLATE_NOT_FOUND,
        "template",
    )
    [email] = sent_to(smtp_server, "ada@example.com")
    assert email["Subject"] == "Shall we meet, Ada?"
    assert email["List-Unsubscribe"]  # a sales message: consent and unsubscribe as always
    text, html = email.get_body(("plain",)), email.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "Pick the time that suits you: https://crm.test/book/" in text.get_content()
    assert '<a href="https://crm.test/book/' in html.get_content()
    assert await Meeting.filter(id=meeting.id).count() == 1
    assert await Meeting.all().count() == 1  # the refused proposal left nothing
