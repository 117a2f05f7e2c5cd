"""Report schedules: a dashboard report mailed as CSV or XLSX on a cadence, with its runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.dashboards import Bucket
from domain.report_schedules import (
    MAX_RECIPIENTS,
    MAX_SCHEDULES_PER_AGENCY,
    DeliveryStatus,
    Frequency,
    RelativePeriod,
    ReportFormat,
    ReportScheduleErrorCode,
    ScheduleStatus,
    ScheduleView,
    Weekday,
)
from resolvers import report_schedules as resolve
from resolvers.errors import Outcome
from schema.enum_values import ERROR_CODES, described_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

described_enum(
    ReportScheduleErrorCode,
    "ReportScheduleErrorCode",
    "Why a mutation on report schedules changed nothing: the `code` of its errors.",
    {
        **ERROR_CODES,
        "UNKNOWN_REPORT": "No report has that name (sales, sales-head, support, sysadmin).",
        "INVALID_CADENCE": "A weekday goes with WEEKLY only, a day of the month with MONTHLY only.",
        "INVALID_RECIPIENTS": "No recipient, or a user who is not an active user you may see.",
        "TOO_MANY_RECIPIENTS": f"More than {MAX_RECIPIENTS} recipients, users and addresses "
        "together.",
        "TOO_MANY_SCHEDULES": f"The agency has {MAX_SCHEDULES_PER_AGENCY} report schedules "
        "already.",
        "OWNER_INACTIVE": "The schedule's owner is deactivated: it cannot be resumed.",
    },
)
described_enum(
    ReportFormat,
    "ReportFormat",
    "The file a report is sent as.",
    {"CSV": "Comma-separated text.", "XLSX": "An Excel workbook (one worksheet)."},
)
described_enum(
    RelativePeriod,
    "ReportPeriod",
    "The report's period, counted back from the run's local day (both ends included).",
    {
        "YESTERDAY": "The day before the run's.",
        "LAST_7_DAYS": "The 7 days before the run's day.",
        "LAST_30_DAYS": "The 30 days before the run's day.",
        "LAST_WEEK": "The ISO week (Monday to Sunday) before the run's week.",
        "LAST_MONTH": "The calendar month before the run's month.",
        "MONTH_TO_DATE": "The run's month up to the run's day.",
        "YEAR_TO_DATE": "The run's year up to the run's day.",
    },
)
described_enum(
    Frequency,
    "ReportFrequency",
    "How often a report is sent.",
    {
        "DAILY": "Every day at the time.",
        "WEEKLY": "On one weekday at the time.",
        "MONTHLY": "On one day of the month (1 to 28) at the time.",
    },
)
described_enum(
    Weekday,
    "Weekday",
    "A day of the week (ISO: Monday first).",
    {day.name: day.name.title() + "." for day in Weekday},
)
described_enum(
    ScheduleStatus,
    "ReportScheduleStatus",
    "Whether a schedule sends.",
    {
        "ACTIVE": "It sends at each time of its cadence.",
        "PAUSED": "It sends nothing until resumed (`pausedReason` says why when the CRM "
        "paused it).",
    },
)
described_enum(
    DeliveryStatus,
    "ReportDeliveryStatus",
    "What became of one run of a schedule.",
    {
        "BUILT": "The report is built and its messages are being sent.",
        "SENT": "Every recipient's message was sent.",
        "PARTLY_SENT": "Some messages were sent, others failed or were skipped.",
        "FAILED": "No message was sent.",
        "STOPPED": "Nothing was built (`reason` says why: paused, owner deactivated, ...).",
    },
)


@strawberry.type(description="The report's filter, as each run applies it.")
class ReportScheduleFilter:
    period: RelativePeriod = strawberry.field(description="The period, relative to the run.")
    bucket: Bucket = strawberry.field(description="The time series' bucket.")
    team_id: relay.GlobalID | None = strawberry.field(description="Only this OrgUnit's records.")
    owner_id: relay.GlobalID | None = strawberry.field(description="Only this User's records.")
    currency: str | None = strawberry.field(description="Only deals in this currency.")


@strawberry.type(description="When a schedule sends: a local time on a day of its cadence.")
class ReportCadence:
    frequency: Frequency = strawberry.field(description="Daily, weekly or monthly.")
    weekday: Weekday | None = strawberry.field(description="The day of a weekly one.")
    day_of_month: int | None = strawberry.field(description="The day (1-28) of a monthly one.")
    hour: int = strawberry.field(description="The local hour, 0 to 23.")
    minute: int = strawberry.field(description="The minute, 0 to 59.")
    time_zone: str = strawberry.field(description="The IANA time zone of the time.")


@strawberry.type(description="One run of a schedule: the period it covered and its outcome.")
class ReportDelivery:
    run_at: datetime = strawberry.field(description="The time the run was scheduled for.")
    start: date | None = strawberry.field(name="from", description="The period's first day.")
    end: date | None = strawberry.field(name="to", description="The period's last day.")
    status: DeliveryStatus = strawberry.field(description="What became of it.")
    reason: str = strawberry.field(description="Why it stopped; empty otherwise.")
    messages: int = strawberry.field(description="Messages written, one per recipient.")
    sent: int = strawberry.field(description="Messages sent.")


@strawberry.type(
    description="A report mailed on a cadence, built with its owner's row scope: a recipient "
    "never gets more than the owner may read."
)
class ReportSchedule:
    view: strawberry.Private[ScheduleView]

    @strawberry.field(description="The schedule's global id.")
    def id(self) -> relay.GlobalID:
        return relay.GlobalID("ReportSchedule", str(self.view.schedule.id))

    @strawberry.field(description="Its name, in the subject of every email.")
    def name(self) -> str:
        return self.view.schedule.name

    @strawberry.field(description="The report: sales, sales-head, support or sysadmin.")
    def report(self) -> str:
        return self.view.schedule.report

    @strawberry.field(description="The file it is sent as.")
    def format(self) -> ReportFormat:
        return ReportFormat(self.view.schedule.file_format)

    @strawberry.field(description="The User whose row scope builds the report.")
    def owner_id(self) -> relay.GlobalID:
        return relay.GlobalID("User", str(self.view.schedule.owner_id))

    @strawberry.field(description="The report's filter.")
    def filter(self) -> ReportScheduleFilter:
        s = self.view.schedule
        return ReportScheduleFilter(
            period=RelativePeriod(s.period),
            bucket=Bucket(s.bucket),
            team_id=relay.GlobalID("OrgUnit", str(s.team_id)) if s.team_id else None,
            owner_id=relay.GlobalID("User", str(s.filter_owner_id)) if s.filter_owner_id else None,
            currency=s.currency,
        )

    @strawberry.field(description="When it sends.")
    def cadence(self) -> ReportCadence:
        s = self.view.schedule
        return ReportCadence(
            frequency=Frequency(s.frequency),
            weekday=Weekday(s.weekday) if s.weekday is not None else None,
            day_of_month=s.day_of_month,
            hour=s.hour,
            minute=s.minute,
            time_zone=s.time_zone,
        )

    @strawberry.field(description="The users it is sent to (those still active get it).")
    def recipient_ids(self) -> list[relay.GlobalID]:
        return [relay.GlobalID("User", str(i)) for i in self.view.schedule.recipient_ids]

    @strawberry.field(description="Addresses outside the agency it is sent to (admins only).")
    def external_emails(self) -> list[str]:
        return list(self.view.schedule.external_emails)

    @strawberry.field(description="Whether it sends.")
    def status(self) -> ScheduleStatus:
        return ScheduleStatus(self.view.schedule.status)

    @strawberry.field(
        description="Why the CRM paused it (its owner deactivated, or no longer allowed to "
        "read the report); empty when a person paused it or it is active."
    )
    def paused_reason(self) -> str:
        return self.view.schedule.paused_reason

    @strawberry.field(description="Its next three run times (none while paused).")
    def next_run_times(self) -> list[datetime]:
        return self.view.next_runs

    @strawberry.field(description="Its newest run; null before the first.")
    def last_delivery(self) -> ReportDelivery | None:
        d = self.view.last_delivery
        if d is None:
            return None
        return ReportDelivery(
            run_at=d.run_at,
            start=d.period_start,
            end=d.period_end,
            status=DeliveryStatus(d.status),
            reason=d.reason,
            messages=d.messages,
            sent=d.sent,
        )

    @strawberry.field(description="When it was created.")
    def created_at(self) -> datetime:
        return self.view.schedule.created_at


@strawberry.type(description="A problem with the input; nothing was changed.")
class ReportScheduleError:
    field: str | None = error_field()
    code: ReportScheduleErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the schedule as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class ReportSchedulePayload:
    report_schedule: ReportSchedule | None = payload_record("report schedule")
    errors: list[ReportScheduleError] = payload_errors()


@strawberry.input(description="The report's filter: its period relative to each run, and whose.")
class ReportScheduleFilterInput:
    period: RelativePeriod = strawberry.field(description="The period, relative to the run.")
    bucket: Bucket = strawberry.field(
        default=Bucket.DAY, description="The time series' bucket (DAY when left out)."
    )
    team_id: relay.GlobalID | None = strawberry.field(
        default=None, description="An OrgUnit: only records of its members and those below."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A User: only their records."
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code: only deals in it."
    )


@strawberry.input(description="When to send: a local time on every day, a weekday or a day.")
class ReportCadenceInput:
    frequency: Frequency = strawberry.field(description="Daily, weekly or monthly.")
    weekday: Weekday | None = strawberry.field(default=None, description="For WEEKLY only.")
    day_of_month: int | None = strawberry.field(
        default=None, description="1 to 28, for MONTHLY only."
    )
    hour: int = strawberry.field(description="The local hour, 0 to 23.")
    minute: int = strawberry.field(default=0, description="The minute, 0 to 59.")
    time_zone: str | None = strawberry.field(
        default=None, description="An IANA time zone; the agency's when left out."
    )


@strawberry.input(description="A new report schedule, owned by you.")
class CreateReportScheduleInput:
    name: str = strawberry.field(description="1 to 100 characters.")
    report: str = strawberry.field(description="sales, sales-head, support or sysadmin.")
    format: ReportFormat = strawberry.field(
        default=ReportFormat.CSV, description="The file (CSV when left out)."
    )
    filter: ReportScheduleFilterInput = strawberry.field(description="The report's filter.")
    cadence: ReportCadenceInput = strawberry.field(description="When to send.")
    recipient_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list,
        description="Active Users you may see (a sales head: their team).",
    )
    external_emails: list[str] = strawberry.field(
        default_factory=list, description="Addresses outside the agency: admins only."
    )


@strawberry.input(
    description="The fields to change; the others stay. A filter or cadence "
    "given replaces the one before as a whole."
)
class UpdateReportScheduleInput:
    id: relay.GlobalID = node_id()
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 100 characters."
    )
    report: str | None = strawberry.field(default=strawberry.UNSET, description="The report.")
    format: ReportFormat | None = strawberry.field(
        default=strawberry.UNSET, description="The file."
    )
    filter: ReportScheduleFilterInput | None = strawberry.field(
        default=strawberry.UNSET, description="The report's filter."
    )
    cadence: ReportCadenceInput | None = strawberry.field(
        default=strawberry.UNSET, description="When to send."
    )
    recipient_ids: list[relay.GlobalID] | None = strawberry.field(
        default=strawberry.UNSET, description="Active Users you may see."
    )
    external_emails: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="Addresses outside the agency: admins only."
    )


@strawberry.input(description="The report schedule to pause, resume or delete.")
class ReportScheduleIdInput:
    id: relay.GlobalID = node_id()


def _payload(outcome: Outcome[ScheduleView]) -> ReportSchedulePayload:
    return ReportSchedulePayload(
        report_schedule=ReportSchedule(view=outcome.value) if outcome.value else None,
        errors=errors_as(ReportScheduleError, outcome.errors),
    )


@strawberry.type
class ReportScheduleQuery:
    @strawberry.field(
        description="The report schedules you may read (admins: the agency's; sales heads "
        "and sysadmins: their own), oldest first, with their next run times."
    )
    async def report_schedules(self, info: Info) -> list[ReportSchedule]:
        return [ReportSchedule(view=v) for v in await resolve.list_schedules(info.context)]


@strawberry.type
class ReportScheduleMutation:
    @strawberry.mutation(
        description="Admins, sales heads and sysadmins: mail a report on a cadence, built with "
        "your row scope."
    )
    async def create_report_schedule(
        self, info: Info, input: Annotated[CreateReportScheduleInput, MUTATION_INPUT]
    ) -> ReportSchedulePayload:
        return _payload(await resolve.create_schedule(info.context, input))

    @strawberry.mutation(description="Change a schedule you may change (admins: any).")
    async def update_report_schedule(
        self, info: Info, input: Annotated[UpdateReportScheduleInput, MUTATION_INPUT]
    ) -> ReportSchedulePayload:
        return _payload(await resolve.update_schedule(info.context, input))

    @strawberry.mutation(description="Stop sending until resumed (pausing twice is harmless).")
    async def pause_report_schedule(
        self, info: Info, input: Annotated[ReportScheduleIdInput, MUTATION_INPUT]
    ) -> ReportSchedulePayload:
        return _payload(await resolve.pause_schedule(info.context, input.id))

    @strawberry.mutation(description="Send again from the next time of the cadence.")
    async def resume_report_schedule(
        self, info: Info, input: Annotated[ReportScheduleIdInput, MUTATION_INPUT]
    ) -> ReportSchedulePayload:
        return _payload(await resolve.resume_schedule(info.context, input.id))

    @strawberry.mutation(description="Delete a schedule; its past deliveries stay.")
    async def delete_report_schedule(
        self, info: Info, input: Annotated[ReportScheduleIdInput, MUTATION_INPUT]
    ) -> ReportSchedulePayload:
        return _payload(await resolve.delete_schedule(info.context, input.id))
