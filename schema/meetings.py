"""Meeting types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.lifecycles.meeting import MeetingEvent, MeetingLifecycle, MeetingStatus
from domain.meetings import MAX_SLOTS, MeetingErrorCode, MeetingOrderField
from domain.meetings import Meeting as MeetingRecord
from domain.meetings import MeetingSlot as MeetingSlotRecord
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import meetings as resolve
from resolvers import related
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum, lifecycle_enums
from schema.payloads import errors_as
from schema.record_filters import OrderDirection
from schema.shared_fields import (
    FILTER,
    MUTATION_INPUT,
    ORDER,
    After,
    First,
    RecordId,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)
from schema.users import UserSummary

if TYPE_CHECKING:
    from schema.contacts import Contact
    from schema.deals import Deal
    from schema.leads import Lead

    MeetingStatusEnum = StrEnum
    MeetingEventEnum = StrEnum
else:
    MeetingStatusEnum, MeetingEventEnum = lifecycle_enums(
        MeetingLifecycle, MeetingStatus, MeetingEvent, "Meeting"
    )

error_code_enum(MeetingErrorCode, "MeetingErrorCode", "meetings")
described_enum(
    MeetingOrderField,
    "MeetingOrderField",
    "What meetings can be sorted by.",
    {"CREATED_AT": "When it was created.", "STARTS_AT": "Booked start time."},
)


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(description="A time the owner offered.")
class MeetingSlot:
    starts_at: datetime = strawberry.field(description="When this time starts.")
    ends_at: datetime = strawberry.field(
        description="When this time ends (start plus the meeting's duration)."
    )


@strawberry.type(
    description="A meeting with a contact, perhaps about a lead, a deal or a calling task: "
    "proposed with time slots, booked when the contact picks one."
)
class Meeting(relay.Node):
    id: relay.NodeID[str] = node_id()
    title: str = strawberry.field(description="What the meeting is (never empty).")
    location: str = strawberry.field(description="A place or a video link.")
    duration_minutes: int = strawberry.field(description="How long it lasts, 5 to 480 minutes.")
    time_zone: str = strawberry.field(description="The contact's (the agency's) time zone.")
    starts_at: datetime | None = strawberry.field(description="The booked time; null until.")
    ends_at: datetime | None = strawberry.field(
        description="When the booked time ends; null until booked."
    )
    sequence: int = strawberry.field(
        description="The invitation's revision: one more at each new time or cancellation."
    )
    status: MeetingStatusEnum = strawberry.field(
        description="Where the meeting is in its lifecycle."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, MeetingRecord))

    @strawberry.field(description="The Contact it is with.")
    def contact_id(self, root: strawberry.Parent[MeetingRecord]) -> relay.GlobalID | None:
        return _gid("Contact", root.contact_id)

    @strawberry.field(description="The Lead it is about, if any.")
    def lead_id(self, root: strawberry.Parent[MeetingRecord]) -> relay.GlobalID | None:
        return _gid("Lead", root.lead_id)

    @strawberry.field(description="The Deal it is about, if any.")
    def deal_id(self, root: strawberry.Parent[MeetingRecord]) -> relay.GlobalID | None:
        return _gid("Deal", root.deal_id)

    @strawberry.field(description="The Ticket it is part of, if any.")
    def ticket_id(self, root: strawberry.Parent[MeetingRecord]) -> relay.GlobalID | None:
        return _gid("Ticket", root.ticket_id)

    @strawberry.field(description="The CallingTask it came from, if any.")
    def calling_task_id(self, root: strawberry.Parent[MeetingRecord]) -> relay.GlobalID | None:
        return _gid("CallingTask", root.calling_task_id)

    @strawberry.field(description="The contact, if visible to you.")
    async def contact(
        self, info: Info, root: strawberry.Parent[MeetingRecord]
    ) -> Annotated[Contact, strawberry.lazy("schema.contacts")] | None:
        return await related.contact(info.context, root.contact_id)  # type: ignore[return-value]

    @strawberry.field(description="The lead the meeting is about, if visible to you.")
    async def lead(
        self, info: Info, root: strawberry.Parent[MeetingRecord]
    ) -> Annotated[Lead, strawberry.lazy("schema.leads")] | None:
        return await related.lead(info.context, root.lead_id)  # type: ignore[return-value]

    @strawberry.field(description="The deal the meeting is about, if visible to you.")
    async def deal(
        self, info: Info, root: strawberry.Parent[MeetingRecord]
    ) -> Annotated[Deal, strawberry.lazy("schema.deals")] | None:
        return await related.deal(info.context, root.deal_id)  # type: ignore[return-value]

    @strawberry.field(description="The sales person who proposed it and meets the contact.")
    async def owner(self, info: Info, root: strawberry.Parent[MeetingRecord]) -> UserSummary | None:
        return await related.colleague(info.context, root.owner_id)  # type: ignore[return-value]

    @strawberry.field(description="The times offered, earliest first.")
    async def slots(self, info: Info, root: strawberry.Parent[MeetingRecord]) -> list[MeetingSlot]:
        found: list[MeetingSlotRecord] = await resolve.slots(info.context, root)
        return [MeetingSlot(starts_at=s.starts_at, ends_at=s.ends_at) for s in found]

    @strawberry.field(description="Events that may be applied to this meeting now.")
    def allowed_events(self, root: strawberry.Parent[MeetingRecord]) -> list[MeetingEventEnum]:
        return [MeetingEvent(e) for e in resolve.meeting_allowed_events(root)]


@strawberry.type(description="A problem with the input; nothing was changed.")
class MeetingError:
    field: str | None = error_field()
    code: MeetingErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class MeetingPayload:
    meeting: Meeting | None = payload_record("meeting")
    errors: list[MeetingError] = payload_errors()


def _payload(outcome: Outcome[MeetingRecord]) -> MeetingPayload:
    return MeetingPayload(
        meeting=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(MeetingError, outcome.errors),
    )


@strawberry.input(
    description=f"1 to {MAX_SLOTS} start times of `durationMinutes` each; the contact gets an "
    "email with a link to pick one."
)
class ProposeMeetingInput:
    contact_id: relay.GlobalID = strawberry.field(
        description="The Contact to meet (needs an email address, else NO_ADDRESS)."
    )
    title: str = strawberry.field(description="1 to 200 characters.")
    slots: list[datetime] = strawberry.field(
        description="Start times to offer: 1 to 10, none in the past (IN_THE_PAST), none "
        "overlapping (SLOT_OVERLAPS)."
    )
    duration_minutes: int = strawberry.field(description="5 to 480 (else OUT_OF_RANGE).")
    location: str = strawberry.field(default="", description="A place or a video link.")
    template: str = strawberry.field(
        default="",
        description="A published message template's key for the proposal; a default text "
        "listing the times without one. The booking link is added either way.",
    )
    lead_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The Lead it is about, if any."
    )
    deal_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The Deal it is about, if any."
    )
    calling_task_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The CallingTask it came from, if any."
    )
    ticket_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The support Ticket it is part of, if any (one you may read)."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to you."
    )


@strawberry.input(description="The meeting to act on.")
class MeetingInput:
    id: relay.GlobalID = node_id()


@strawberry.input(description="A booked meeting's new start; its length is kept.")
class RescheduleMeetingInput:
    id: relay.GlobalID = node_id()
    starts_at: datetime = strawberry.field(
        description="The new start (not in the past, not overlapping your booked meetings)."
    )


@strawberry.input(description="Which meetings to list; conditions combine with AND.")
class MeetingFilter:
    status_in: list[MeetingStatusEnum] | None = strawberry.field(
        default=None, description="Only meetings in one of these statuses."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only meetings owned by this user."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only meetings with this contact."
    )
    lead_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only meetings about this lead."
    )
    deal_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only meetings about this deal."
    )
    calling_task_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only meetings that came from this calling task."
    )
    ticket_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only meetings linked to this ticket."
    )
    starts_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    starts_before: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.input(description="By STARTS_AT, meetings not booked yet are left out.")
class MeetingOrder:
    field: MeetingOrderField = strawberry.field(
        default=MeetingOrderField.CREATED_AT,
        description="The field to sort by; CREATED_AT when left out.",
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="DESC when left out."
    )


@strawberry.type
class MeetingQuery:
    @strawberry.field(description="One meeting by its global id, or null if not visible.")
    async def meeting(self, info: Info, id: RecordId) -> Meeting | None:
        return await resolve.meeting(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description=f"Meetings (yours, your team's...); at most {MAX_PAGE_SIZE}.")
    async def meetings(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[MeetingFilter | None, FILTER] = None,
        order_by: Annotated[MeetingOrder | None, ORDER] = None,
    ) -> relay.Connection[Meeting]:
        order = order_by or MeetingOrder()
        return await resolve.meetings_page(
            info.context,
            first,
            after,
            filter,
            order.field.value,
            order.direction is OrderDirection.DESC,
        )


@strawberry.type
class MeetingMutation:
    @strawberry.mutation(description="Propose time slots to a contact (see the input).")
    async def propose_meeting(
        self, info: Info, input: Annotated[ProposeMeetingInput, MUTATION_INPUT]
    ) -> MeetingPayload:
        return _payload(await resolve.propose_meeting(info.context, input))

    @strawberry.mutation(description="The booked meeting took place (HOLD).")
    async def hold_meeting(
        self, info: Info, input: Annotated[MeetingInput, MUTATION_INPUT]
    ) -> MeetingPayload:
        return _payload(await resolve.hold_meeting(info.context, input.id))

    @strawberry.mutation(description="The contact did not come (MARK_NO_SHOW).")
    async def mark_meeting_no_show(
        self, info: Info, input: Annotated[MeetingInput, MUTATION_INPUT]
    ) -> MeetingPayload:
        return _payload(await resolve.mark_meeting_no_show(info.context, input.id))

    @strawberry.mutation(
        description="Cancel a proposed or booked meeting; a booked one's invitation is "
        "withdrawn on both sides (METHOD:CANCEL)."
    )
    async def cancel_meeting(
        self, info: Info, input: Annotated[MeetingInput, MUTATION_INPUT]
    ) -> MeetingPayload:
        return _payload(await resolve.cancel_meeting(info.context, input.id))

    @strawberry.mutation(
        description="Move a booked meeting; both sides get the updated invitation (SEQUENCE+1)."
    )
    async def reschedule_meeting(
        self, info: Info, input: Annotated[RescheduleMeetingInput, MUTATION_INPUT]
    ) -> MeetingPayload:
        return _payload(await resolve.reschedule_meeting(info.context, input.id, input.starts_at))
