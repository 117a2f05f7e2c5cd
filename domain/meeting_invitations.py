"""Calendar invitations for meetings (iCalendar, RFC 5545, sent as iMIP, RFC 6047).

Every message about one meeting carries the same UID, so calendar clients update one entry: a
new time is a `REQUEST` with the next SEQUENCE, a cancellation a `CANCEL` with the next
SEQUENCE. Pure: the caller reads the meeting, the owner and the contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from icalendar import Calendar, Event, vCalAddress, vText

from domain.emails import CalendarPart

PRODUCT_ID = "-//crm//meetings//EN"


class InvitationMethod(StrEnum):
    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str


@dataclass(frozen=True)
class InvitationDetails:
    meeting_id: UUID
    sequence: int
    title: str
    location: str
    starts_at: datetime
    ends_at: datetime
    organizer: Attendee
    attendee: Attendee


def meeting_uid(meeting_id: UUID) -> str:
    return f"meeting-{meeting_id}@crm"


def _address(person: Attendee, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name or person.email)
    for name, value in params.items():
        address.params[name.replace("_", "-").upper()] = vText(value)
    return address


def invitation(
    details: InvitationDetails, method: InvitationMethod, now: datetime | None = None
) -> CalendarPart:
    """The VCALENDAR with one VEVENT for the meeting, as sent to either side."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", str(method))
    event = Event()
    event.add("uid", meeting_uid(details.meeting_id))
    event.add("sequence", details.sequence)
    event.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", details.starts_at.astimezone(UTC))
    event.add("dtend", details.ends_at.astimezone(UTC))
    event.add("summary", details.title)
    if details.location:
        event.add("location", details.location)
    event.add("status", "CANCELLED" if method is InvitationMethod.CANCEL else "CONFIRMED")
    event.add("organizer", _address(details.organizer))
    event.add(
        "attendee",
        _address(details.attendee, role="REQ-PARTICIPANT", partstat="NEEDS-ACTION", rsvp="TRUE"),
    )
    calendar.add_component(event)
    return CalendarPart(method=str(method), text=calendar.to_ical().decode())
