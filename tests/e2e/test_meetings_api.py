"""Meetings as a sales person uses them over GraphQL: propose time slots to a contact, see the
meeting in their list and on the contact's timeline, and record how it went; overlaps with
their own booked meetings are typed errors on the slot."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from strawberry import relay

from domain import meetings
from domain.roles import Role
from tests.e2e.colleagues import colleague
from tests.e2e.conftest import Api

ERRORS = "errors { field code message }"
MEETING = (
    "id title status location durationMinutes timeZone startsAt sequence allowedEvents "
    "slots { startsAt endsAt } owner { name } contact { firstName }"
)
PROPOSE = f"""
mutation($input: ProposeMeetingInput!) {{
  proposeMeeting(input: $input) {{ meeting {{ {MEETING} }} {ERRORS} }}
}}"""
LIST = """
query($filter: MeetingFilter, $order: MeetingOrder) {
  meetings(first: 20, filter: $filter, orderBy: $order) {
    edges { node { id title status startsAt } }
  }
}"""


def at(hours: int) -> str:
    moment = (datetime.now(UTC) + timedelta(hours=hours)).replace(minute=0, second=0)
    return moment.replace(microsecond=0).isoformat()


async def a_contact(api: Api, owner: uuid.UUID | None = None) -> str:
    fields: dict[str, Any] = {"firstName": "Grace", "emails": ["grace@example.com"]}
    if owner is not None:
        fields["ownerId"] = str(relay.GlobalID("User", str(owner)))
    return await api.created("CreateContactInput", "createContact", "contact", fields)


async def propose(api: Api, contact_id: str, *slots: str, **extra: Any) -> dict[str, Any]:
    data = {
        "contactId": contact_id,
        "title": "Discovery call",
        "slots": list(slots),
        "durationMinutes": 45,
        "location": "Room 4, 1 Fleet Street",
        **extra,
    }
    answer: dict[str, Any] = (await api.graphql(PROPOSE, {"input": data}))["proposeMeeting"]
    return answer


async def book_first_slot(meeting_id: str) -> None:
    meeting_uuid = uuid.UUID(relay.GlobalID.from_id(meeting_id).node_id)
    meeting = await meetings.Meeting.get(id=meeting_uuid)
    slot = (await meetings.slots_of(meeting))[0]
    booking = await meetings.book_meeting(meeting_uuid, slot.id)
    assert booking.outcome is meetings.BookingOutcome.BOOKED


async def test_a_sales_person_proposes_slots_and_sees_the_meeting_in_their_list(
    api: Api,
) -> None:
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    contact_id = await a_contact(api, rep_id)

    proposed = await propose(rep, contact_id, at(30), at(54))

    assert proposed["errors"] == []
    meeting = proposed["meeting"]
    assert meeting["status"] == "PROPOSED"
    assert meeting["allowedEvents"] == ["BOOK", "CANCEL"]  # BOOK: the contact, on the page
    assert meeting["timeZone"] == "UTC"
    assert [s["startsAt"] for s in meeting["slots"]] == [at(30), at(54)]
    assert meeting["contact"] == {"firstName": "Grace"}
    listed = (await rep.graphql(LIST, {"filter": {"contactId": contact_id}}))["meetings"]
    assert [e["node"]["id"] for e in listed["edges"]] == [meeting["id"]]
    other, _ = await colleague(api, Role.SALES_PERSON)
    assert (await other.graphql(LIST))["meetings"]["edges"] == []

    await book_first_slot(meeting["id"])
    booked = await rep.graphql(
        "query($id: ID!) { node(id: $id) { ... on Meeting { status startsAt allowedEvents } } }",
        {"id": meeting["id"]},
    )
    assert booked["node"] == {
        "status": "BOOKED",
        "startsAt": at(30),
        "allowedEvents": ["RESCHEDULE", "HOLD", "MARK_NO_SHOW", "CANCEL"],
    }
    upcoming = await rep.graphql(
        LIST,
        {"filter": {"statusIn": ["BOOKED"]}, "order": {"field": "STARTS_AT", "direction": "ASC"}},
    )
    assert [e["node"]["title"] for e in upcoming["meetings"]["edges"]] == ["Discovery call"]
    timeline = await rep.graphql(
        "query($id: ID!) { timeline(recordId: $id) { edges { node { kind "
        "... on MeetingEntry { meeting { id status } } } } } }",
        {"id": contact_id},
    )
    kinds = [edge["node"] for edge in timeline["timeline"]["edges"]]
    assert {"kind": "MEETING", "meeting": {"id": meeting["id"], "status": "BOOKED"}} in kinds


async def test_a_slot_over_one_of_my_booked_meetings_is_an_error_on_that_slot(api: Api) -> None:
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    contact_id = await a_contact(api, rep_id)
    first = await propose(rep, contact_id, at(30))
    await book_first_slot(first["meeting"]["id"])

    clash = await propose(rep, contact_id, at(40), at(30))
    nothing = await propose(rep, contact_id, slots=[])

    assert clash["meeting"] is None
    assert clash["errors"] == [
        {
            "field": "slots.1",
            "code": "SLOT_OVERLAPS",
            "message": "You have a booked meeting at that time.",
        }
    ]
    assert [(e["field"], e["code"]) for e in nothing["errors"]] == [("slots", "REQUIRED")]


async def test_the_owner_moves_then_records_a_meeting_and_a_colleague_cannot(api: Api) -> None:
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    contact_id = await a_contact(api, rep_id)
    meeting_id = (await propose(rep, contact_id, at(30)))["meeting"]["id"]
    await book_first_slot(meeting_id)
    change = "mutation($input: {kind}!) {{ {field}(input: $input) {{ meeting {{ status "
    change += "startsAt sequence }} errors {{ field code message }} }} }}"

    moved = await rep.graphql(
        change.format(kind="RescheduleMeetingInput", field="rescheduleMeeting"),
        {"input": {"id": meeting_id, "startsAt": at(60)}},
    )
    other, _ = await colleague(api, Role.SALES_PERSON)
    hidden = await other.graphql(
        change.format(kind="MeetingInput", field="holdMeeting"), {"input": {"id": meeting_id}}
    )
    held = await rep.graphql(
        change.format(kind="MeetingInput", field="holdMeeting"), {"input": {"id": meeting_id}}
    )
    again = await rep.graphql(
        change.format(kind="MeetingInput", field="cancelMeeting"), {"input": {"id": meeting_id}}
    )

    assert moved["rescheduleMeeting"]["meeting"] == {
        "status": "BOOKED",
        "startsAt": at(60),
        "sequence": 1,
    }
    assert [e["code"] for e in hidden["holdMeeting"]["errors"]] == ["NOT_FOUND"]
    assert held["holdMeeting"]["meeting"]["status"] == "HELD"
    assert [e["code"] for e in again["cancelMeeting"]["errors"]] == ["INVALID_TRANSITION"]
