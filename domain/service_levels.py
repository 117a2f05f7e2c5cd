"""Service levels: each agency's business calendar and its versioned SLA policies.

Admins set the calendar (time zone, working hours per weekday, holiday dates and a country
whose public holidays close the desk too, from the `holidays` library) and publish SLA
policies: first-response and resolution targets in business minutes per priority, and per
customer rating where one is named. Publishing makes a new version; a ticket keeps the
version (its targets, calendar and warning share copied onto it) it was opened under, so a
policy change never moves the clocks of running tickets. Everyone who reads tickets reads
both.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import holidays as public_holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.service_levels import BusinessCalendarRow, SlaPolicy
from domain.actors import Actor
from domain.audit import record_audit
from domain.business_time import BusinessCalendar, check_weekly_hours
from domain.errors import DomainError, validated
from domain.events import append_event
from domain.field_types import TimeZone, input_codes
from domain.policies import require
from domain.roles import Access, Resource

MAX_HOLIDAYS = 200
MAX_TARGETS = 40
PRIORITIES = ("low", "normal", "high", "urgent")
# Years of a country's public holidays a calendar carries around a ticket's opening.
HOLIDAY_YEARS_BEHIND, HOLIDAY_YEARS_AHEAD = 1, 2


class ServiceLevelErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    INVALID_HOURS = "INVALID_HOURS"
    UNKNOWN_COUNTRY = "UNKNOWN_COUNTRY"
    DUPLICATE_TARGET = "DUPLICATE_TARGET"


_CODES = {
    **input_codes(ServiceLevelErrorCode),
    "invalid_hours": ServiceLevelErrorCode.INVALID_HOURS,
    "unknown_country": ServiceLevelErrorCode.UNKNOWN_COUNTRY,
    "duplicate_target": ServiceLevelErrorCode.DUPLICATE_TARGET,
}


def _week(value: list[list[list[int]]]) -> list[list[list[int]]]:
    problem = check_weekly_hours(value)
    if problem is not None:
        raise PydanticCustomError("invalid_hours", problem)
    return [sorted(day) for day in value]


def _country(value: str) -> str:
    code = value.strip().upper()
    if code and code not in public_holidays.list_supported_countries():
        raise PydanticCustomError("unknown_country", "No public holidays are known for it.")
    return code


class CalendarInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    time_zone: TimeZone = "UTC"
    weekly_hours: Annotated[list[list[list[int]]], AfterValidator(_week)] = Field(
        default_factory=lambda: BusinessCalendar().weekly_hours
    )
    holidays: list[date] = Field(default_factory=list, max_length=MAX_HOLIDAYS)
    holiday_country: Annotated[str, AfterValidator(_country)] = ""
    holiday_subdivision: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10)] = (
        ""
    )


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)]
    rating: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    first_response_minutes: int | None = Field(default=None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(default=None, ge=1, le=525_600)


def _distinct_targets(targets: list[Target]) -> list[Target]:
    seen = set()
    for target in targets:
        if target.priority not in PRIORITIES:
            raise PydanticCustomError("invalid", "priority is one of low, normal, high, urgent.")
        key = (target.priority, target.rating.lower())
        if key in seen:
            raise PydanticCustomError("duplicate_target", "One target per priority and rating.")
        seen.add(key)
    return targets


class PolicyInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: Annotated[
        list[Target], Field(max_length=MAX_TARGETS), AfterValidator(_distinct_targets)
    ]
    warning_share: float = Field(default=0.75, gt=0, lt=1)


def _validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return validated(model, data, _CODES, ServiceLevelErrorCode.INVALID)


# --- calendars -------------------------------------------------------------------------------


async def calendar_row(
    agency_id: Any, conn: BaseDBAsyncClient | None = None
) -> BusinessCalendarRow:
    """The agency's calendar row; without one, nine to five on weekdays in its time zone."""
    row = await BusinessCalendarRow.filter(agency_id=agency_id).using_db(conn).first()
    if row is not None:
        return row
    agency = await Agency.filter(id=agency_id).using_db(conn).get()
    return BusinessCalendarRow(
        agency_id=agency_id,
        time_zone=agency.time_zone,
        weekly_hours=BusinessCalendar().weekly_hours,
    )


def calendar_of(row: BusinessCalendarRow, around: datetime) -> BusinessCalendar:
    """The pure calendar for clocks started `around` then: the agency's own holiday dates and
    its country's public holidays of the years about it."""
    dates = set(row.holidays)
    if row.holiday_country:
        years = range(around.year - HOLIDAY_YEARS_BEHIND, around.year + HOLIDAY_YEARS_AHEAD + 1)
        country = public_holidays.country_holidays(
            row.holiday_country, subdiv=row.holiday_subdivision or None, years=years
        )
        dates.update(day.isoformat() for day in country)
    return BusinessCalendar(
        time_zone=row.time_zone, weekly_hours=row.weekly_hours, holidays=sorted(dates)
    )


async def get_business_calendar(actor: Actor) -> BusinessCalendarRow:
    require(actor, Resource.TICKETS, Access.READ)
    return await calendar_row(actor.agency_id)


def _calendar_snapshot(row: BusinessCalendarRow) -> dict[str, Any]:
    return {
        "time_zone": row.time_zone,
        "weekly_hours": row.weekly_hours,
        "holidays": list(row.holidays),
        "holiday_country": row.holiday_country,
        "holiday_subdivision": row.holiday_subdivision,
    }


async def set_business_calendar(actor: Actor, data: dict[str, Any]) -> BusinessCalendarRow:
    """Replace the agency's calendar (admins). Running tickets keep the calendar they opened
    with; new tickets take this one."""
    require(actor, Resource.ORGANISATION, Access.WRITE)
    given: CalendarInput = _validate(CalendarInput, data)
    if given.holiday_subdivision and given.holiday_country:
        try:
            public_holidays.country_holidays(
                given.holiday_country, subdiv=given.holiday_subdivision
            )
        except NotImplementedError as exc:
            raise DomainError(
                ServiceLevelErrorCode.UNKNOWN_COUNTRY,
                "No public holidays are known for that subdivision.",
                "holiday_subdivision",
            ) from exc
    async with in_transaction() as conn:
        row = await calendar_row(actor.agency_id, conn)
        before = _calendar_snapshot(row) if row.pk is not None and row._saved_in_db else {}
        row.time_zone = given.time_zone
        row.weekly_hours = given.weekly_hours
        row.holidays = sorted({day.isoformat() for day in given.holidays})
        row.holiday_country = given.holiday_country
        row.holiday_subdivision = given.holiday_subdivision
        await row.save(using_db=conn)
        after = _calendar_snapshot(row)
        await record_audit(actor, "business_calendar", str(row.id), "update", before, after, conn)
        await append_event(
            actor, "business_calendar.updated", "business_calendar", str(row.id), after, conn
        )
    return row


# --- policies --------------------------------------------------------------------------------


async def current_policy(agency_id: Any, conn: BaseDBAsyncClient | None = None) -> SlaPolicy | None:
    return await SlaPolicy.filter(agency_id=agency_id).using_db(conn).order_by("-version").first()


async def get_sla_policy(actor: Actor, version: int | None = None) -> SlaPolicy | None:
    """The given version, or the current one (None: no policy yet, or no such version)."""
    require(actor, Resource.TICKETS, Access.READ)
    if version is None:
        return await current_policy(actor.agency_id)
    return await SlaPolicy.get_or_none(agency_id=actor.agency_id, version=version)


async def publish_sla_policy(actor: Actor, data: dict[str, Any]) -> SlaPolicy:
    """A new version of the agency's SLA policy (admins): tickets opened from now on take it."""
    require(actor, Resource.ORGANISATION, Access.WRITE)
    given: PolicyInput = _validate(PolicyInput, data)
    async with in_transaction() as conn:
        # The agency's row serialises publishers, so two never take the same version.
        await Agency.filter(id=actor.agency_id).using_db(conn).select_for_update().first()
        latest = await current_policy(actor.agency_id, conn)
        version = latest.version + 1 if latest is not None else 1
        policy = await SlaPolicy.create(
            agency_id=actor.agency_id,
            version=version,
            targets=[target.model_dump() for target in given.targets],
            warning_share=given.warning_share,
            created_by=actor.id,
            using_db=conn,
        )
        after = {
            "version": version,
            "targets": policy.targets,
            "warning_share": given.warning_share,
        }
        await record_audit(actor, "sla_policy", str(policy.id), "create", {}, after, conn)
        await append_event(actor, "sla_policy.published", "sla_policy", str(policy.id), after, conn)
    return policy


@dataclasses.dataclass(frozen=True)
class Targets:
    """A ticket's targets in business seconds (None: no clock)."""

    first_response: int | None
    resolution: int | None


def targets_for(policy: SlaPolicy, priority: str, rating: str) -> Targets:
    """The policy's targets for a priority: the customer's rating's own, else any rating's."""
    rows = [t for t in policy.targets if t["priority"] == priority]
    chosen = next((t for t in rows if rating and t["rating"].lower() == rating.lower()), None)
    chosen = chosen or next((t for t in rows if not t["rating"]), None)
    if chosen is None:
        return Targets(None, None)

    def seconds(minutes: float | None) -> int | None:
        # Whole minutes from the API; the SLA benchmark's policy row has fractions of one.
        return round(minutes * 60) if minutes else None

    return Targets(seconds(chosen["first_response_minutes"]), seconds(chosen["resolution_minutes"]))
