"""What the booking page shows and does for the holder of a signed booking link.

The link names one meeting (`domain.signed_links`, purpose `booking`); the page speaks to that
meeting's contact: the agency's and the owner's names, the meeting's title and place, and the
slots still open, in the meeting's time zone. Any link that is not valid (forged, altered,
expired, or naming a meeting that is gone) gives the same `InvalidLink`, so the answer reveals
nothing about which it was or whether anyone exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from db.agencies import Agency
from db.users import User
from domain.meetings import (
    BookingOutcome,
    Meeting,
    book_meeting,
    describe_slot,
    open_slots,
)
from domain.signed_links import InvalidLink, LinkConfig, LinkPurpose, subject_of


class PageState(StrEnum):
    CHOOSING = "choosing"  # slots are open
    NO_TIMES_LEFT = "no_times_left"  # every slot passed or was filled
    BOOKED = "booked"
    CANCELLED = "cancelled"
    OVER = "over"  # held or no-show


@dataclass(frozen=True)
class SlotChoice:
    id: int
    label: str


@dataclass(frozen=True)
class BookingView:
    agency_name: str
    owner_name: str
    title: str
    location: str
    time_zone: str
    state: PageState
    slots: list[SlotChoice]
    booked: str  # the booked time, described, once booked


async def _meeting(links: LinkConfig, token: str) -> Meeting:
    subject = subject_of(links, LinkPurpose.BOOKING, token)
    try:
        meeting_id = UUID(str(subject))
    except ValueError as exc:
        raise InvalidLink from exc
    meeting = await Meeting.get_or_none(id=meeting_id, deleted_at__isnull=True)
    if meeting is None:
        raise InvalidLink
    return meeting


_STATES = {
    "booked": PageState.BOOKED,
    "cancelled": PageState.CANCELLED,
    "held": PageState.OVER,
    "no_show": PageState.OVER,
}


async def _view(meeting: Meeting) -> BookingView:
    agency = await Agency.get(id=meeting.agency_id)
    owner = await User.get_or_none(id=meeting.owner_id) if meeting.owner_id else None
    choices = [
        SlotChoice(slot.id, describe_slot(meeting, slot.starts_at, slot.ends_at))
        for slot in await open_slots(meeting)
    ]
    state = _STATES.get(meeting.status)
    if state is None:
        state = PageState.CHOOSING if choices else PageState.NO_TIMES_LEFT
    booked = ""
    if meeting.starts_at is not None and meeting.ends_at is not None:
        booked = describe_slot(meeting, meeting.starts_at, meeting.ends_at)
    return BookingView(
        agency_name=agency.name,
        owner_name=owner.name if owner else agency.name,
        title=meeting.title,
        location=meeting.location,
        time_zone=meeting.time_zone,
        state=state,
        slots=choices if state is PageState.CHOOSING else [],
        booked=booked,
    )


async def page(links: LinkConfig, token: str) -> BookingView:
    """What the page shows; `InvalidLink` for any link that is not good."""
    return await _view(await _meeting(links, token))


async def choose(links: LinkConfig, token: str, slot_id: str) -> tuple[BookingView, bool]:
    """Book the slot picked; the page after it, and whether the slot was still there (a slot
    filled or passed since the page was shown was not booked)."""
    meeting = await _meeting(links, token)
    try:
        wanted = int(slot_id)
    except ValueError:
        return await _view(meeting), False
    booking = await book_meeting(meeting.id, wanted)
    gone = booking.outcome is BookingOutcome.SLOT_GONE
    return await _view(booking.meeting), not gone
