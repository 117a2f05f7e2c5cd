"""Broadcasts: one published template to an audience, once or every year, with progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.broadcasts import Broadcast as BroadcastRecord
from domain.broadcasts import BroadcastErrorCode, BroadcastStatus, Recurrence, RunStatus
from domain.broadcasts import BroadcastRun as BroadcastRunRecord
from resolvers import broadcasts as resolve
from schema.contacts import ContactFilter
from schema.customers import CustomerFilter
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import USE_INPUT, errors_as, one_input
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

error_code_enum(BroadcastErrorCode, "BroadcastErrorCode", "broadcasts")
described_enum(
    BroadcastStatus,
    "BroadcastStatus",
    "Where a broadcast is.",
    {
        "SCHEDULED": "Waiting for its time (a yearly one stays here between runs).",
        "SENDING": "Sending now.",
        "SENT": "Sent; a one-off one is finished.",
        "CANCELLED": "Cancelled; nothing more is sent.",
    },
)
described_enum(
    Recurrence,
    "BroadcastRecurrence",
    "How often a broadcast sends.",
    {
        "ONCE": "Once, at `sendAt`.",
        "YEARLY": "Every year on `sendAt`'s local date and time.",
        "YEARLY_ON_FIELD": (
            "Every day at `sendAt`'s local time, to those whose `dateField` falls on that day "
            "(birthdays, anniversaries)."
        ),
    },
)
described_enum(
    RunStatus,
    "BroadcastRunStatus",
    "Where one occurrence of a broadcast is.",
    {
        "SENDING": "Sending now.",
        "SENT": "Every message was sent, skipped or failed.",
        "CANCELLED": "Stopped by a cancel.",
    },
)


@strawberry.type(description="One sending of a broadcast: its day and its counts so far.")
class BroadcastRun:
    occurrence: str = strawberry.field(description="The local date it is for (YYYY-MM-DD).")
    status: RunStatus = strawberry.field(description="Where this occurrence is.")
    targeted: int = strawberry.field(description="Messages written for the audience so far.")
    sent: int = strawberry.field(description="Messages sent.")
    failed: int = strawberry.field(description="Messages that failed for good.")
    skipped: JSON = strawberry.field(description="Skipped messages by reason.")
    started_at: datetime = strawberry.field(description="When it started sending.")
    finished_at: datetime | None = strawberry.field(
        description="When it finished; null while sending."
    )


@strawberry.type(description="A published template sent to an audience, once or every year.")
class Broadcast(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="What the broadcast is called.")
    template_key: str = strawberry.field(
        description="The key of the message template it sends (its published version at send time)."
    )
    record_type: str = strawberry.field(description="contact or customer.")
    audience: JSON = strawberry.field(description="The filter, read when each run starts.")
    time_zone: str = strawberry.field(
        description="The IANA zone `sendAt`'s local date and time are read in."
    )
    send_at: datetime = strawberry.field(
        description="When it sends (a yearly one: its first date and the local time)."
    )
    recurrence: Recurrence = strawberry.field(description="How often it sends.")
    date_field: str = strawberry.field(
        description="For YEARLY_ON_FIELD: created_at or custom_fields.<key> of a date field; "
        "else empty."
    )
    status: BroadcastStatus = strawberry.field(description="Where the broadcast is.")
    created_at: datetime = created_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, BroadcastRecord))

    @strawberry.field(description="Its sendings, newest first (one for a one-off).")
    async def runs(
        self, info: Info, root: strawberry.Parent[BroadcastRecord]
    ) -> list[BroadcastRun]:
        found: list[BroadcastRunRecord] = await resolve.runs(info.context, root)
        return found  # type: ignore[return-value]


@strawberry.input(description="Exactly one of them; neither sends to every contact.")
class BroadcastAudience:
    contacts: ContactFilter | None = strawberry.field(
        default=None, description="Contacts matching this filter."
    )
    customers: CustomerFilter | None = strawberry.field(
        default=None, description="Customers matching this filter."
    )


@strawberry.input(
    description="A broadcast to schedule (at most 500 per agency). Errors: REQUIRED, "
    "TOO_LONG, INVALID, INVALID_TIME_ZONE, TEMPLATE_NOT_FOUND, NOT_PUBLISHED, "
    "TRANSACTIONAL, INVALID_AUDIENCE, UNKNOWN_DATE_FIELD, IN_THE_PAST, TOO_MANY, "
    "FORBIDDEN."
)
class CreateBroadcastInput:
    name: str = strawberry.field(description="1 to 200 characters.")
    template: str = strawberry.field(description="A published, non-transactional template.")
    audience: BroadcastAudience | None = strawberry.field(
        default=None, description="Who receives it; left out: every contact."
    )
    send_at: datetime = strawberry.field(
        description="When (one-off); for a yearly one, the first date and the local time."
    )
    time_zone: str | None = strawberry.field(
        default=None, description="IANA name; the agency's when left out."
    )
    recurrence: Recurrence = strawberry.field(
        default=Recurrence.ONCE, description="ONCE when left out."
    )
    date_field: str = strawberry.field(
        default="",
        description="yearly_on_field: created_at, or custom_fields.<key> of a date field.",
    )


@strawberry.input(description="The broadcast to stop.")
class CancelBroadcastInput:
    id: relay.GlobalID = strawberry.field(description="A Broadcast id.")


@strawberry.type(description="A problem with the input; nothing was changed.")
class BroadcastError:
    field: str | None = error_field()
    code: BroadcastErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class BroadcastPayload:
    broadcast: Broadcast | None = payload_record("broadcast")
    errors: list[BroadcastError] = payload_errors()


def _payload(outcome: Any) -> BroadcastPayload:
    return BroadcastPayload(
        broadcast=outcome.value, errors=errors_as(BroadcastError, outcome.errors)
    )


@strawberry.type
class BroadcastQuery:
    @strawberry.field(description="The agency's broadcasts, newest first (admins, marketing).")
    async def broadcasts(self, info: Info) -> list[Broadcast]:
        return await resolve.broadcasts_list(info.context)  # type: ignore[return-value]


@strawberry.type
class BroadcastMutation:
    @strawberry.mutation(description="Schedule a broadcast (admins and marketing).")
    async def create_broadcast(
        self, info: Info, input: Annotated[CreateBroadcastInput, MUTATION_INPUT]
    ) -> BroadcastPayload:
        return _payload(await resolve.create(info.context, input))

    @strawberry.mutation(
        description="Stop a broadcast before or while it sends; what was sent stays sent. "
        "Admins and marketing. Errors: NOT_FOUND, NOT_CANCELLABLE (it has finished or was "
        "cancelled), FORBIDDEN."
    )
    async def cancel_broadcast(
        self,
        info: Info,
        input: Annotated[CancelBroadcastInput | None, MUTATION_INPUT] = None,
        id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="A Broadcast id.", deprecation_reason=USE_INPUT),
        ] = None,
    ) -> BroadcastPayload:
        given = one_input("cancelBroadcast", input, CancelBroadcastInput, id=id)
        return _payload(await resolve.cancel(info.context, given.id))
