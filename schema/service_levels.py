"""Business calendar and SLA policy types, inputs and payloads; a ticket's SLA clocks."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from db.service_levels import BusinessCalendarRow
from db.service_levels import SlaPolicy as SlaPolicyRecord
from domain.service_levels import MAX_HOLIDAYS, MAX_TARGETS, ServiceLevelErrorCode
from domain.tickets import SlaClock as SlaClockRecord
from domain.tickets import TicketPriority
from resolvers import service_levels as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    payload_errors,
)

# Registered here, not in schema.tickets (which imports this module): SLA targets are the first
# to use it, and an enum used before it is registered gets a second, undescribed definition.
described_enum(
    TicketPriority,
    "TicketPriority",
    "How urgent a ticket is; the SLA policy's targets and the assignment rules go by it.",
    {
        "LOW": "Can wait.",
        "NORMAL": "The default.",
        "HIGH": "Soon.",
        "URGENT": "Now.",
    },
)
error_code_enum(
    ServiceLevelErrorCode, "ServiceLevelErrorCode", "business calendars and SLA policies"
)


class SlaClockName(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


described_enum(
    SlaClockName,
    "SlaClockName",
    "Which SLA clock of a ticket.",
    {
        "FIRST_RESPONSE": "Until the first public reply to the customer.",
        "RESOLUTION": "Until the ticket is resolved.",
    },
)


@strawberry.type(description="One SLA clock of a ticket, in business time.")
class SlaClock:
    name: SlaClockName = strawberry.field(description="Which clock it is.")
    target_seconds: int = strawberry.field(description="The target, in business seconds.")
    due_at: datetime | None = strawberry.field(
        description="When it is due if it keeps running; null while paused or once met."
    )
    seconds_left: int = strawberry.field(
        description="Business seconds left now (negative: over by that much)."
    )
    paused: bool = strawberry.field(description="Standing still: the ticket is Pending/Resolved.")
    met_at: datetime | None = strawberry.field(description="The first reply, or the resolution.")
    warned_at: datetime | None = strawberry.field(description="When the warning was due.")
    breached_at: datetime | None = strawberry.field(description="When it was breached.")

    @classmethod
    def of(cls, clock: SlaClockRecord) -> SlaClock:
        return cls(
            name=SlaClockName(clock.name),
            target_seconds=clock.target_seconds,
            due_at=clock.due_at,
            seconds_left=clock.seconds_left,
            paused=clock.paused,
            met_at=clock.met_at,
            warned_at=clock.warned_at,
            breached_at=clock.breached_at,
        )


@strawberry.type(
    description="When the support team works: per weekday (Monday first) intervals "
    "[start minute, end minute) in the time zone, closed on the holidays and on the country's "
    "public holidays."
)
class BusinessCalendar:
    time_zone: str = strawberry.field(description="The IANA zone the hours are read in.")
    weekly_hours: list[list[list[int]]] = strawberry.field(
        description="Seven days, Monday first, each a list of [start minute, end minute) "
        "intervals (0 to 1440); an empty day is closed."
    )
    holidays: list[date] = strawberry.field(description="The agency's own closed days.")
    holiday_country: str = strawberry.field(description="ISO 3166 code, or empty.")
    holiday_subdivision: str = strawberry.field(
        description="The country's subdivision (e.g. a state) whose holidays also count; "
        "empty: the country's only."
    )

    @classmethod
    def of(cls, row: BusinessCalendarRow) -> BusinessCalendar:
        return cls(
            time_zone=row.time_zone,
            weekly_hours=row.weekly_hours,
            holidays=[date.fromisoformat(day) for day in row.holidays],
            holiday_country=row.holiday_country,
            holiday_subdivision=row.holiday_subdivision,
        )


@strawberry.type(description="A target of an SLA policy, in business minutes (null: none).")
class SlaTarget:
    priority: TicketPriority = strawberry.field(description="The ticket priority it is for.")
    rating: str = strawberry.field(description="A customer rating; empty: any customer.")
    first_response_minutes: int | None = strawberry.field(
        description="Business minutes to the first reply; null: no target."
    )
    resolution_minutes: int | None = strawberry.field(
        description="Business minutes to the resolution; null: no target."
    )


@strawberry.type(description="One published version of the agency's SLA policy.")
class SlaPolicy:
    version: int = strawberry.field(description="Its number, 1 for the first published.")
    warning_share: float = strawberry.field(description="The share of a target that warns.")
    created_at: datetime = created_at()

    @strawberry.field(description="Its targets per priority and customer rating.")
    def targets(self, root: strawberry.Parent[SlaPolicyRecord]) -> list[SlaTarget]:
        return [
            SlaTarget(
                priority=TicketPriority(t["priority"]),
                rating=t["rating"],
                first_response_minutes=t["first_response_minutes"],
                resolution_minutes=t["resolution_minutes"],
            )
            for t in root.targets
        ]


@strawberry.type(description="A problem with the input; nothing was changed.")
class ServiceLevelError:
    field: str | None = error_field()
    code: ServiceLevelErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the calendar as saved, or the errors that stopped "
    "it (then nothing was changed)."
)
class BusinessCalendarPayload:
    calendar: BusinessCalendar | None = strawberry.field(
        description="The calendar as saved; null when `errors` is not empty."
    )
    errors: list[ServiceLevelError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the version published, or the errors that stopped "
    "it (then nothing was published)."
)
class SlaPolicyPayload:
    policy: SlaPolicy | None = strawberry.field(
        description="The version published; null when `errors` is not empty."
    )
    errors: list[ServiceLevelError] = payload_errors()


@strawberry.input(
    description="Replaces the calendar whole; running tickets keep theirs. Errors: "
    "INVALID_TIME_ZONE, INVALID_HOURS, UNKNOWN_COUNTRY, TOO_MANY, TOO_LONG, INVALID, FORBIDDEN."
)
class SetBusinessCalendarInput:
    time_zone: str = strawberry.field(
        default="UTC", description="An IANA zone name (else INVALID_TIME_ZONE); UTC when left out."
    )
    weekly_hours: list[list[list[int]]] = strawberry.field(
        description="Seven days, Monday first, each a list of [start minute, end minute] "
        "(0 to 1440, start before end, not overlapping; an empty list: closed), some time in "
        "the week; else INVALID_HOURS."
    )
    holidays: list[date] = strawberry.field(
        default_factory=list,
        description=f"The agency's own closed days: at most {MAX_HOLIDAYS} (else TOO_MANY).",
    )
    holiday_country: str = strawberry.field(
        default="",
        description="An ISO 3166 code whose public holidays close the desk (else "
        "UNKNOWN_COUNTRY); empty: none.",
    )
    holiday_subdivision: str = strawberry.field(
        default="",
        description="A subdivision of that country (e.g. a state), at most 10 characters, "
        "whose holidays also close the desk (unknown: UNKNOWN_COUNTRY); empty: none.",
    )


@strawberry.input(description="The targets for one priority and customer rating.")
class SlaTargetInput:
    priority: TicketPriority = strawberry.field(description="The ticket priority it is for.")
    rating: str = strawberry.field(
        default="", description="A customer rating, at most 20 characters; empty: any."
    )
    first_response_minutes: int | None = strawberry.field(
        default=None,
        description="Business minutes to the first reply: 1 to 525600 (else OUT_OF_RANGE); "
        "null: no target.",
    )
    resolution_minutes: int | None = strawberry.field(
        default=None,
        description="Business minutes to the resolution: 1 to 525600; null: no target.",
    )


@strawberry.input(
    description="A new version: tickets opened from now on take it. Errors: TOO_MANY, "
    "DUPLICATE_TARGET, OUT_OF_RANGE, TOO_LONG, INVALID, REQUIRED, FORBIDDEN."
)
class PublishSlaPolicyInput:
    targets: list[SlaTargetInput] = strawberry.field(
        description=f"At most {MAX_TARGETS} targets (else TOO_MANY), one per priority and "
        "rating (else DUPLICATE_TARGET)."
    )
    warning_share: float = strawberry.field(
        default=0.75,
        description="The share of a target after which the assignee is warned: more than 0, "
        "less than 1 (else OUT_OF_RANGE); 0.75 when left out.",
    )


def _calendar(outcome: Outcome[BusinessCalendarRow]) -> BusinessCalendarPayload:
    return BusinessCalendarPayload(
        calendar=BusinessCalendar.of(outcome.value) if outcome.value else None,
        errors=errors_as(ServiceLevelError, outcome.errors),
    )


@strawberry.type
class ServiceLevelQuery:
    @strawberry.field(description="The agency's business calendar (nine to five by default).")
    async def business_calendar(self, info: Info) -> BusinessCalendar:
        return BusinessCalendar.of(await resolve.business_calendar(info.context))

    @strawberry.field(description="A version of the SLA policy; the current one by default.")
    async def sla_policy(
        self,
        info: Info,
        version: Annotated[
            int | None,
            strawberry.argument(
                description="The version's number; left out: the current one. Null comes back "
                "when there is no policy yet or no such version."
            ),
        ] = None,
    ) -> SlaPolicy | None:
        found: Any = await resolve.sla_policy(info.context, version)
        return found  # type: ignore[no-any-return]


@strawberry.type
class ServiceLevelMutation:
    @strawberry.mutation(
        description="Set the agency's business calendar (admins). Errors: see "
        "SetBusinessCalendarInput."
    )
    async def set_business_calendar(
        self, info: Info, input: Annotated[SetBusinessCalendarInput, MUTATION_INPUT]
    ) -> BusinessCalendarPayload:
        return _calendar(await resolve.set_business_calendar(info.context, input))

    @strawberry.mutation(
        description="Publish a new version of the SLA policy (admins). Errors: see "
        "PublishSlaPolicyInput."
    )
    async def publish_sla_policy(
        self, info: Info, input: Annotated[PublishSlaPolicyInput, MUTATION_INPUT]
    ) -> SlaPolicyPayload:
        outcome = await resolve.publish_sla_policy(info.context, input)
        return SlaPolicyPayload(
            policy=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(ServiceLevelError, outcome.errors),
        )
