"""Business calendar and SLA policy types, inputs and payloads; a ticket's SLA clocks."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import strawberry
from strawberry.types import Info

from db.service_levels import BusinessCalendarRow
from db.service_levels import SlaPolicy as SlaPolicyRecord
from domain.service_levels import ServiceLevelErrorCode
from domain.tickets import SlaClock as SlaClockRecord
from domain.tickets import TicketPriority
from resolvers import service_levels as resolve
from resolvers.errors import Outcome
from schema.payloads import errors_as

strawberry.enum(ServiceLevelErrorCode, name="ServiceLevelErrorCode")


@strawberry.enum
class SlaClockName(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@strawberry.type(description="One SLA clock of a ticket, in business time.")
class SlaClock:
    name: SlaClockName
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
    time_zone: str
    weekly_hours: list[list[list[int]]]
    holidays: list[date]
    holiday_country: str = strawberry.field(description="ISO 3166 code, or empty.")
    holiday_subdivision: str

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
    priority: TicketPriority
    rating: str = strawberry.field(description="A customer rating; empty: any customer.")
    first_response_minutes: int | None
    resolution_minutes: int | None


@strawberry.type(description="One published version of the agency's SLA policy.")
class SlaPolicy:
    version: int
    warning_share: float = strawberry.field(description="The share of a target that warns.")
    created_at: datetime

    @strawberry.field
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


@strawberry.type
class ServiceLevelError:
    field: str | None
    code: ServiceLevelErrorCode
    message: str


@strawberry.type
class BusinessCalendarPayload:
    calendar: BusinessCalendar | None
    errors: list[ServiceLevelError]


@strawberry.type
class SlaPolicyPayload:
    policy: SlaPolicy | None
    errors: list[ServiceLevelError]


@strawberry.input(description="Replaces the calendar whole; running tickets keep theirs.")
class SetBusinessCalendarInput:
    time_zone: str = "UTC"
    weekly_hours: list[list[list[int]]] = strawberry.field(
        description="Seven days, Monday first, each a list of [start minute, end minute]."
    )
    holidays: list[date] = strawberry.field(default_factory=list)
    holiday_country: str = strawberry.field(
        default="", description="An ISO 3166 code whose public holidays close the desk."
    )
    holiday_subdivision: str = ""


@strawberry.input
class SlaTargetInput:
    priority: TicketPriority
    rating: str = strawberry.field(default="", description="A customer rating; empty: any.")
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None


@strawberry.input(description="A new version: tickets opened from now on take it.")
class PublishSlaPolicyInput:
    targets: list[SlaTargetInput]
    warning_share: float = strawberry.field(default=0.75, description="Between 0 and 1.")


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
    async def sla_policy(self, info: Info, version: int | None = None) -> SlaPolicy | None:
        found: Any = await resolve.sla_policy(info.context, version)
        return found  # type: ignore[no-any-return]


@strawberry.type
class ServiceLevelMutation:
    @strawberry.mutation(description="Set the agency's business calendar (admins).")
    async def set_business_calendar(
        self, info: Info, input: SetBusinessCalendarInput
    ) -> BusinessCalendarPayload:
        return _calendar(await resolve.set_business_calendar(info.context, input))

    @strawberry.mutation(description="Publish a new version of the SLA policy (admins).")
    async def publish_sla_policy(
        self, info: Info, input: PublishSlaPolicyInput
    ) -> SlaPolicyPayload:
        outcome = await resolve.publish_sla_policy(info.context, input)
        return SlaPolicyPayload(
            policy=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(ServiceLevelError, outcome.errors),
        )
