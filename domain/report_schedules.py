"""Scheduled report delivery: a report (the same dashboards `GET /reports/<name>.csv|.xlsx`
serves) built on a cadence with its owner's row scope and mailed as an attachment.

A schedule is a row, and a Temporal Schedule (`report-schedule-<id>`) on the server starts
its runs at a local time in its time zone. The row is the truth: every change writes an
outbox message with the whole wanted state (cadence, paused, deleted) in the same
transaction, and the relay (`crm.report_schedules`) makes the server's schedule match it,
idempotently, in order. The API therefore never talks to Temporal, and a change made while
Temporal is away is applied when it is back.

A run (`prepare_run`, inside an activity) builds the report as of the run's local day with
the row scope of the schedule's owner *now* (a recipient never gets more than the owner may
see), stores the file once, and queues one transactional message per recipient through the
one sending path (`domain.messages`), all under the run's key: a retried activity finds its
delivery and messages instead of sending twice. An owner deactivated, or no longer allowed
to read the report, pauses the schedule with that reason: deliveries stop, and say why.

Who: admins keep any schedule of the agency; sales heads and sysadmins their own. Recipients
are users the acting person may read (a sales head: their team) and, for admins only, outside
addresses: a sales head cannot mail the company's figures out of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from typing import Annotated, Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.functions import Max
from tortoise.transactions import in_transaction

from db.agencies import Agency, OrgUnit
from db.messages import Message, MessageAttachment
from db.report_schedules import ReportDelivery, ReportSchedule
from db.users import User
from domain import messages
from domain.actors import Actor
from domain.dashboards import Bucket, DashboardFilter
from domain.emails import storable_key
from domain.errors import DomainError, validated
from domain.field_types import CurrencyCode, Email, TimeZone, input_codes
from domain.message_kinds import TemplateKind
from domain.message_rendering import TemplateParts
from domain.outbox import OutboxKind, enqueue
from domain.policies import require, rows
from domain.record_changes import record_created, record_deleted, record_updated
from domain.report_exports import REPORTS, XLSX_TYPE, csv_report, report_file_name, xlsx_report
from domain.roles import Access, Resource, Role, RowScope
from domain.users import team_of

AGGREGATE = "report_schedule"
MAX_SCHEDULES_PER_AGENCY = 50
MAX_RECIPIENTS = 20  # users and outside addresses together, as a message allows
NEXT_RUNS = 3  # how many next run times the API shows

# What the owner must be allowed to read for each report (the dashboard checks it again).
REPORT_ACCESS: dict[str, Resource] = {
    "sales": Resource.SALES_RECORDS,
    "sales-head": Resource.SALES_RECORDS,
    "support": Resource.TICKETS,
    "sysadmin": Resource.FLOWS,
}


class ReportScheduleErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    UNKNOWN_REPORT = "UNKNOWN_REPORT"
    INVALID_CADENCE = "INVALID_CADENCE"
    INVALID_RECIPIENTS = "INVALID_RECIPIENTS"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    TOO_MANY_RECIPIENTS = "TOO_MANY_RECIPIENTS"
    TOO_MANY_SCHEDULES = "TOO_MANY_SCHEDULES"
    OWNER_INACTIVE = "OWNER_INACTIVE"


_CODES = {
    **input_codes(ReportScheduleErrorCode),
    "too_long": ReportScheduleErrorCode.TOO_MANY_RECIPIENTS,
}


class ReportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class RelativePeriod(StrEnum):
    """The report's period, counted back from the run's local day."""

    YESTERDAY = "yesterday"
    LAST_7_DAYS = "last_7_days"  # the 7 days before the run's day
    LAST_30_DAYS = "last_30_days"
    LAST_WEEK = "last_week"  # the ISO week (Monday to Sunday) before the run's
    LAST_MONTH = "last_month"  # the calendar month before the run's
    MONTH_TO_DATE = "month_to_date"  # the run's month up to its day, included
    YEAR_TO_DATE = "year_to_date"


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Weekday(IntEnum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


class ScheduleStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class DeliveryStatus(StrEnum):
    BUILT = "built"  # messages queued, not all delivered yet
    SENT = "sent"
    PARTLY_SENT = "partly_sent"
    FAILED = "failed"
    STOPPED = "stopped"  # nothing built: paused, deleted, owner deactivated or refused


Recipients = Annotated[list[UUID], Field(max_length=MAX_RECIPIENTS)]
Addresses = Annotated[list[Email], Field(max_length=MAX_RECIPIENTS)]


class ScheduleCommand(BaseModel):
    """A schedule as given (a create's whole input; an update's given fields over the row)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    report: str
    file_format: ReportFormat = ReportFormat.CSV
    period: RelativePeriod
    bucket: Bucket = Bucket.DAY
    team_id: UUID | None = None
    filter_owner_id: UUID | None = None
    currency: CurrencyCode | None = None
    recipient_ids: Recipients = []
    external_emails: Addresses = []
    frequency: Frequency
    weekday: Annotated[int, Field(ge=0, le=6)] | None = None
    day_of_month: Annotated[int, Field(ge=1, le=28)] | None = None
    hour: Annotated[int, Field(ge=0, le=23)]
    minute: Annotated[int, Field(ge=0, le=59)] = 0
    time_zone: TimeZone | None = None


def temporal_schedule_id(schedule_id: UUID | str) -> str:
    return f"report-schedule-{schedule_id}"


# --- reading ------------------------------------------------------------------------------


def _not_found(schedule_id: UUID) -> DomainError:
    return DomainError(
        ReportScheduleErrorCode.NOT_FOUND, f"No report schedule with id {schedule_id}.", "id"
    )


@dataclass(frozen=True)
class ScheduleView:
    """A schedule as the API shows it: with its next runs and its newest delivery."""

    schedule: ReportSchedule
    next_runs: list[datetime]
    last_delivery: ReportDelivery | None


async def views(schedules: Sequence[ReportSchedule]) -> list[ScheduleView]:
    """Each schedule's view; one statement for the deliveries of them all."""
    now = datetime.now(UTC)
    last = await last_deliveries([s.id for s in schedules])
    return [ScheduleView(s, next_run_times(s, now), last.get(s.id)) for s in schedules]


async def list_schedules(actor: Actor) -> list[ScheduleView]:
    """The schedules the actor may read (admins: the agency's; others: their own), oldest
    first; at most MAX_SCHEDULES_PER_AGENCY exist."""
    where = rows(actor, Resource.REPORT_SCHEDULES, Access.READ)
    return await views(await ReportSchedule.filter(where).order_by("created_at", "id"))


async def _writable(actor: Actor, schedule_id: UUID, conn: BaseDBAsyncClient) -> ReportSchedule:
    where = rows(actor, Resource.REPORT_SCHEDULES, Access.WRITE)
    found = (
        await ReportSchedule.filter(where, id=schedule_id)
        .using_db(conn)
        .select_for_update()
        .first()
    )
    if found is None:
        raise _not_found(schedule_id)
    return found


def next_run_times(
    schedule: ReportSchedule, after: datetime, count: int = NEXT_RUNS
) -> list[datetime]:
    """The next runs (UTC) after `after`, as the Temporal Schedule's calendar gives them;
    none while paused."""
    if schedule.status != ScheduleStatus.ACTIVE:
        return []
    zone = ZoneInfo(schedule.time_zone)
    day = after.astimezone(zone).date()
    found: list[datetime] = []
    while len(found) < count:
        if _runs_on(schedule, day):
            local = datetime.combine(day, time(schedule.hour, schedule.minute), zone)
            moment = local.astimezone(UTC)
            if moment > after:
                found.append(moment)
        day += timedelta(days=1)
    return found


def _runs_on(schedule: ReportSchedule, day: date) -> bool:
    if schedule.frequency == Frequency.WEEKLY:
        return day.weekday() == schedule.weekday
    if schedule.frequency == Frequency.MONTHLY:
        return day.day == schedule.day_of_month
    return True


def period_of(period: RelativePeriod, run_day: date) -> tuple[date, date]:
    """The days (both included) a run on `run_day` reports on."""
    yesterday = run_day - timedelta(days=1)
    if period is RelativePeriod.YESTERDAY:
        return yesterday, yesterday
    if period is RelativePeriod.LAST_7_DAYS:
        return run_day - timedelta(days=7), yesterday
    if period is RelativePeriod.LAST_30_DAYS:
        return run_day - timedelta(days=30), yesterday
    if period is RelativePeriod.LAST_WEEK:
        monday = run_day - timedelta(days=run_day.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if period is RelativePeriod.LAST_MONTH:
        last = run_day.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if period is RelativePeriod.MONTH_TO_DATE:
        return run_day.replace(day=1), run_day
    return run_day.replace(month=1, day=1), run_day


def report_filter(schedule: ReportSchedule, run_at: datetime) -> DashboardFilter:
    """The report's filter for a run at `run_at`: its period by the run's local day."""
    run_day = run_at.astimezone(ZoneInfo(schedule.time_zone)).date()
    start, end = period_of(RelativePeriod(schedule.period), run_day)
    return DashboardFilter(
        start=start,
        end=end,
        bucket=Bucket(schedule.bucket),
        team_id=schedule.team_id,
        owner_id=schedule.filter_owner_id,
        currency=schedule.currency,
    )


# --- changing -----------------------------------------------------------------------------


def _snapshot(schedule: ReportSchedule) -> dict[str, Any]:
    def text(value: UUID | None) -> str | None:
        return str(value) if value else None

    return {
        "owner_id": str(schedule.owner_id),
        "name": schedule.name,
        "report": schedule.report,
        "file_format": schedule.file_format,
        "period": schedule.period,
        "bucket": schedule.bucket,
        "team_id": text(schedule.team_id),
        "filter_owner_id": text(schedule.filter_owner_id),
        "currency": schedule.currency,
        "recipient_ids": list(schedule.recipient_ids),
        "external_emails": list(schedule.external_emails),
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day_of_month": schedule.day_of_month,
        "hour": schedule.hour,
        "minute": schedule.minute,
        "time_zone": schedule.time_zone,
        "status": schedule.status,
        "paused_reason": schedule.paused_reason,
    }


def _command_of(schedule: ReportSchedule) -> dict[str, Any]:
    keys = set(ScheduleCommand.model_fields)
    return {k: v for k, v in _snapshot(schedule).items() if k in keys}


async def _owner_actor(user: User, request_id: str = "") -> Actor:
    """The owner as the API would see them now: their roles and (sales heads) their team."""
    roles = frozenset(Role(r) for r in user.roles)
    team = (
        await team_of(user.id, user.agency_id, user.org_unit_id)
        if Role.SALES_HEAD in roles
        else frozenset({user.id})
    )
    return Actor(
        agency_id=user.agency_id,
        id=f"user:{user.id}",
        request_id=request_id,
        user_id=user.id,
        roles=roles,
        team=team,
    )


def _may_read_report(owner: Actor, report: str) -> bool:
    resource = REPORT_ACCESS.get(report)
    if resource is None:
        return False
    try:
        require(owner, resource, Access.READ)
    except DomainError:
        return False
    return True


async def _check(actor: Actor, owner: User, command: ScheduleCommand) -> None:
    """The rules pydantic cannot say: report, cadence, recipients, filter ids."""
    code = ReportScheduleErrorCode
    if command.report not in REPORTS or command.report not in REPORT_ACCESS:
        names = ", ".join(sorted(REPORTS))
        raise DomainError(
            code.UNKNOWN_REPORT, f"No report named {command.report!r} ({names}).", "report"
        )
    if not _may_read_report(await _owner_actor(owner), command.report):
        raise DomainError(
            code.FORBIDDEN,
            f"The schedule's owner may not read the {command.report} report.",
            "report",
        )
    weekly, monthly = command.frequency is Frequency.WEEKLY, command.frequency is Frequency.MONTHLY
    if weekly != (command.weekday is not None):
        raise DomainError(
            code.INVALID_CADENCE, "A weekday goes with a weekly cadence, and only there.", "weekday"
        )
    if monthly != (command.day_of_month is not None):
        raise DomainError(
            code.INVALID_CADENCE,
            "A day of the month (1 to 28) goes with a monthly cadence, and only there.",
            "day_of_month",
        )
    recipients = len(command.recipient_ids) + len(command.external_emails)
    if recipients == 0:
        raise DomainError(code.INVALID_RECIPIENTS, "Give at least one recipient.", "recipient_ids")
    if recipients > MAX_RECIPIENTS:
        raise DomainError(
            code.TOO_MANY_RECIPIENTS,
            f"At most {MAX_RECIPIENTS} recipients, users and addresses together.",
            "recipient_ids",
        )
    if (
        command.external_emails
        and require(actor, Resource.REPORT_SCHEDULES, Access.WRITE) < RowScope.AGENCY
    ):
        raise DomainError(
            code.FORBIDDEN,
            "Only admins send reports to addresses outside the agency.",
            "external_emails",
        )
    if command.recipient_ids:
        readable = rows(actor, Resource.USERS, Access.READ, owner_field="id")
        known = await User.filter(readable, id__in=command.recipient_ids, is_active=True).count()
        if known != len(command.recipient_ids):
            raise DomainError(
                code.INVALID_RECIPIENTS,
                "Every recipient must be an active user you may see (a sales head: their team).",
                "recipient_ids",
            )
    if command.team_id and not await OrgUnit.exists(id=command.team_id, agency_id=actor.agency_id):
        raise DomainError(code.NOT_FOUND, "No such team.", "team_id")
    if command.filter_owner_id and not await User.exists(
        id=command.filter_owner_id, agency_id=actor.agency_id
    ):
        raise DomainError(code.NOT_FOUND, "No such user.", "filter_owner_id")


def _parse(data: dict[str, Any]) -> ScheduleCommand:
    data = {**data}
    for key in ("recipient_ids", "external_emails"):
        if isinstance(data.get(key), list):
            data[key] = list(dict.fromkeys(data[key]))  # the same person twice gets one copy
    return validated(ScheduleCommand, data, _CODES, ReportScheduleErrorCode.INVALID)


def _apply(schedule: ReportSchedule, command: ScheduleCommand, time_zone: str) -> None:
    values = command.model_dump()
    values["recipient_ids"] = [str(v) for v in command.recipient_ids]
    values["external_emails"] = list(command.external_emails)
    values["time_zone"] = time_zone
    values["report"] = command.report
    for key, value in values.items():
        setattr(schedule, key, str(value) if isinstance(value, StrEnum) else value)


async def _sync(schedule: ReportSchedule, conn: BaseDBAsyncClient, deleted: bool = False) -> None:
    """The wanted state of the Temporal Schedule, for the relay (`crm.report_schedules`)."""
    payload = {
        "schedule_id": str(schedule.id),
        "agency_id": str(schedule.agency_id),
        "deleted": deleted,
        "paused": schedule.status == ScheduleStatus.PAUSED,
        "note": schedule.paused_reason,
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day_of_month": schedule.day_of_month,
        "hour": schedule.hour,
        "minute": schedule.minute,
        "time_zone": schedule.time_zone,
    }
    await enqueue(
        schedule.agency_id,
        OutboxKind.SYNC_REPORT_SCHEDULE,
        temporal_schedule_id(schedule.id),
        payload,
        conn,
    )


async def create_schedule(actor: Actor, data: dict[str, Any]) -> ReportSchedule:
    """A new schedule owned by the person creating it, active at once."""
    require(actor, Resource.REPORT_SCHEDULES, Access.WRITE)
    if actor.user_id is None:
        raise DomainError(ReportScheduleErrorCode.FORBIDDEN, "Only people own report schedules.")
    command = _parse(data)
    owner = await User.get(id=actor.user_id)
    await _check(actor, owner, command)
    async with in_transaction() as conn:
        agency = await Agency.filter(id=actor.agency_id).using_db(conn).select_for_update().get()
        count = await ReportSchedule.filter(agency_id=actor.agency_id).using_db(conn).count()
        if count >= MAX_SCHEDULES_PER_AGENCY:
            raise DomainError(
                ReportScheduleErrorCode.TOO_MANY_SCHEDULES,
                f"An agency keeps at most {MAX_SCHEDULES_PER_AGENCY} report schedules.",
            )
        schedule = ReportSchedule(agency_id=actor.agency_id, owner_id=owner.id)
        _apply(schedule, command, command.time_zone or agency.time_zone or "UTC")
        await schedule.save(using_db=conn)
        await record_created(actor, AGGREGATE, str(schedule.id), _snapshot(schedule), conn)
        await _sync(schedule, conn)
    return schedule


async def update_schedule(actor: Actor, schedule_id: UUID, data: dict[str, Any]) -> ReportSchedule:
    """Change the fields given; the rest stay. The owner stays who created it."""
    async with in_transaction() as conn:
        schedule = await _writable(actor, schedule_id, conn)
        before = _snapshot(schedule)
        command = _parse({**_command_of(schedule), **data})
        owner = await User.filter(id=schedule.owner_id).using_db(conn).get()
        await _check(actor, owner, command)
        _apply(schedule, command, command.time_zone or schedule.time_zone)
        after = _snapshot(schedule)
        if after != before:
            await schedule.save(using_db=conn)
            await record_updated(actor, AGGREGATE, str(schedule.id), before, after, conn)
            await _sync(schedule, conn)
    return schedule


async def _set_status(
    schedule: ReportSchedule,
    actor: Actor,
    status: ScheduleStatus,
    reason: str,
    conn: BaseDBAsyncClient,
) -> ReportSchedule:
    if (schedule.status, schedule.paused_reason) == (status, reason):
        return schedule  # asked twice: nothing changes, nothing is sent to Temporal again
    before = _snapshot(schedule)
    schedule.status, schedule.paused_reason = status, reason
    await schedule.save(using_db=conn)
    await record_updated(actor, AGGREGATE, str(schedule.id), before, _snapshot(schedule), conn)
    await _sync(schedule, conn)
    return schedule


async def pause_schedule(actor: Actor, schedule_id: UUID) -> ReportSchedule:
    """No runs until resumed; pausing a paused schedule changes nothing."""
    async with in_transaction() as conn:
        schedule = await _writable(actor, schedule_id, conn)
        if schedule.status == ScheduleStatus.PAUSED:
            return schedule
        return await _set_status(schedule, actor, ScheduleStatus.PAUSED, "", conn)


async def resume_schedule(actor: Actor, schedule_id: UUID) -> ReportSchedule:
    """Runs again from the next time on its calendar; refused while its owner is inactive."""
    async with in_transaction() as conn:
        schedule = await _writable(actor, schedule_id, conn)
        owner = await User.filter(id=schedule.owner_id).using_db(conn).get()
        if not owner.is_active:
            raise DomainError(
                ReportScheduleErrorCode.OWNER_INACTIVE,
                f"Its owner {owner.name} is deactivated: delete it, or reactivate them.",
                "id",
            )
        if not _may_read_report(await _owner_actor(owner), schedule.report):
            raise DomainError(
                ReportScheduleErrorCode.FORBIDDEN,
                f"Its owner may no longer read the {schedule.report} report.",
                "id",
            )
        return await _set_status(schedule, actor, ScheduleStatus.ACTIVE, "", conn)


async def delete_schedule(actor: Actor, schedule_id: UUID) -> ReportSchedule:
    """Gone, with its Temporal Schedule; its past deliveries and messages stay."""
    async with in_transaction() as conn:
        schedule = await _writable(actor, schedule_id, conn)
        await schedule.delete(using_db=conn)
        await record_deleted(actor, AGGREGATE, str(schedule.id), _snapshot(schedule), conn)
        await _sync(schedule, conn, deleted=True)
    return schedule


async def last_deliveries(schedule_ids: Sequence[UUID]) -> dict[UUID, ReportDelivery]:
    """The newest delivery of each schedule (two statements for a list)."""
    found: dict[UUID, ReportDelivery] = {}
    if not schedule_ids:
        return found
    newest = (
        await ReportDelivery.filter(schedule_id__in=list(schedule_ids))
        .group_by("schedule_id")
        .annotate(newest=Max("id"))
        .values("newest")
    )
    ids = [row["newest"] for row in newest]
    for delivery in await ReportDelivery.filter(id__in=ids):
        found[UUID(str(delivery.schedule_id))] = delivery
    return found


# --- a run (inside the delivery's activities) ---------------------------------------------


@dataclass(frozen=True)
class PreparedRun:
    """What a run has to send: its delivery and messages, or why it stopped."""

    delivery_id: int
    message_ids: list[int]
    stopped: str = ""


async def _joined(chunks: AsyncIterator[str] | AsyncIterator[bytes]) -> bytes:
    parts = [chunk.encode() if isinstance(chunk, str) else chunk async for chunk in chunks]
    return b"".join(parts)


async def report_file(actor: Actor, name: str, period: DashboardFilter, file_format: str) -> bytes:
    """The report exactly as `GET /reports/<name>.<format>` streams it, as bytes."""
    if file_format == ReportFormat.XLSX:
        return await _joined(await xlsx_report(actor, name, period))
    return await _joined(await csv_report(actor, name, period))


def delivery_source(delivery: ReportDelivery) -> str:
    return f"report_delivery:{delivery.id}"


async def _messages_of(delivery: ReportDelivery) -> list[int]:
    found = (
        await Message.filter(agency_id=delivery.agency_id, source=delivery_source(delivery))
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [int(cast(Any, i)) for i in found]


async def _stop(
    schedule_id: UUID, agency_id: UUID, run_key: str, run_at: datetime, reason: str, pause: bool
) -> PreparedRun:
    """Record a run that sends nothing; `pause`: the schedule too, with the reason."""
    async with in_transaction() as conn:
        try:
            delivery = await ReportDelivery.create(
                agency_id=agency_id,
                schedule_id=schedule_id,
                run_key=run_key,
                run_at=run_at,
                status=DeliveryStatus.STOPPED,
                reason=reason[:300],
                using_db=conn,
            )
        except IntegrityError:
            raise _Raced from None
        schedule = (
            await ReportSchedule.filter(id=schedule_id).using_db(conn).select_for_update().first()
        )
        if schedule is not None:
            schedule.last_run_at, schedule.last_run_status = run_at, DeliveryStatus.STOPPED
            await schedule.save(using_db=conn, update_fields=["last_run_at", "last_run_status"])
            if pause:
                system = Actor.system(agency_id, "report_schedules")
                await _set_status(schedule, system, ScheduleStatus.PAUSED, reason[:300], conn)
    return PreparedRun(delivery.id, [], reason)


class _Raced(Exception):
    """Another attempt of the same run wrote its delivery first."""


async def prepare_run(schedule_id: UUID, run_key: str, run_at: datetime) -> PreparedRun:
    """Build the run's report and queue its messages, once per run key."""
    try:
        return await _prepare_run(schedule_id, run_key, run_at)
    except _Raced:
        return await _prepare_run(schedule_id, run_key, run_at)


async def _prepare_run(schedule_id: UUID, run_key: str, run_at: datetime) -> PreparedRun:
    done = await ReportDelivery.get_or_none(schedule_id=schedule_id, run_key=run_key)
    if done is not None:
        return PreparedRun(
            done.id,
            await _messages_of(done),
            done.reason if done.status == DeliveryStatus.STOPPED else "",
        )
    schedule = await ReportSchedule.get_or_none(id=schedule_id)
    if schedule is None:
        return PreparedRun(0, [], "The schedule was deleted.")
    stop = schedule.id, schedule.agency_id, run_key, run_at
    if schedule.status != ScheduleStatus.ACTIVE:
        return await _stop(
            *stop, f"The schedule is paused. {schedule.paused_reason}".strip(), pause=False
        )
    owner = await User.get_or_none(id=schedule.owner_id, agency_id=schedule.agency_id)
    if owner is None or not owner.is_active:
        name = owner.name if owner is not None else "its owner"
        return await _stop(*stop, f"Paused: the owner {name} is deactivated.", pause=True)
    owner_actor = await _owner_actor(owner, f"report_schedule:{schedule.id}")
    period = report_filter(schedule, run_at)
    if not _may_read_report(owner_actor, schedule.report):
        reason = f"Paused: the owner {owner.name} may no longer read the {schedule.report} report."
        return await _stop(*stop, reason, pause=True)
    try:
        content = await report_file(owner_actor, schedule.report, period, schedule.file_format)
    except DomainError as refused:
        return await _stop(*stop, f"Paused: {refused.message}", pause=True)
    users = await User.filter(
        agency_id=schedule.agency_id, id__in=list(schedule.recipient_ids), is_active=True
    ).order_by("email")
    file_name = report_file_name(schedule.report, period, schedule.file_format)
    content_type = XLSX_TYPE if schedule.file_format == ReportFormat.XLSX else "text/csv"
    subject = f"{schedule.name}: {schedule.report} report, {period.start} to {period.end}"
    body = (
        f"The {schedule.report} report from {period.start} to {period.end} ({period.bucket.value}s"
        f"), as {owner.name} sees it, is attached ({file_name}).\n\n"
        f'{owner.name} scheduled it as "{schedule.name}"; they, or an admin, can change or '
        "stop it (reportSchedules)."
    )
    targets: list[tuple[str, str, str]] = [("user", str(u.id), u.email) for u in users]
    targets += [("report_schedule", str(schedule.id), a) for a in schedule.external_emails]
    system = Actor.system(schedule.agency_id, "report_schedules")
    async with in_transaction() as conn:
        attachment = await MessageAttachment.create(
            agency_id=schedule.agency_id,
            file_name=file_name,
            content_type=content_type,
            content=content,
            using_db=conn,
        )
        try:
            delivery = await ReportDelivery.create(
                agency_id=schedule.agency_id,
                schedule_id=schedule.id,
                run_key=run_key,
                run_at=run_at,
                period_start=period.start,
                period_end=period.end,
                attachment_id=attachment.id,
                status=DeliveryStatus.BUILT,
                messages=len(targets),
                using_db=conn,
            )
        except IntegrityError:
            raise _Raced from None
        ids = []
        for record_type, record_id, address in targets:
            message, _ = await messages.queue_message(
                system,
                messages.MessageRequest(
                    record_type=record_type,
                    record_id=record_id,
                    idempotency_key=storable_key(f"report:{schedule.id}:{run_key}:{address}"),
                    source=delivery_source(delivery),
                    text=TemplateParts(subject, body),
                    kind=TemplateKind.TRANSACTIONAL,
                    recipients=[address],
                    to_record=False,
                    attachment_id=attachment.id,
                ),
                conn,
            )
            ids.append(message.id)
        schedule.last_run_at, schedule.last_run_status = run_at, DeliveryStatus.BUILT
        await schedule.save(using_db=conn, update_fields=["last_run_at", "last_run_status"])
    return PreparedRun(delivery.id, ids)


async def conclude_run(delivery_id: int) -> ReportDelivery:
    """Count the run's messages by outcome, on the delivery and the schedule."""
    delivery = await ReportDelivery.get(id=delivery_id)
    statuses: list[Any] = list(
        await Message.filter(
            agency_id=delivery.agency_id, source=delivery_source(delivery)
        ).values_list("status", flat=True)
    )
    sent = sum(1 for s in statuses if s == messages.MessageStatus.SENT)
    if sent == len(statuses):
        status = DeliveryStatus.SENT
    elif sent:
        status = DeliveryStatus.PARTLY_SENT
    else:
        status = DeliveryStatus.FAILED
    async with in_transaction() as conn:
        delivery.status, delivery.sent = status, sent
        await delivery.save(using_db=conn, update_fields=["status", "sent", "updated_at"])
        await (
            ReportSchedule.filter(id=delivery.schedule_id)
            .using_db(conn)
            .update(last_run_status=status)
        )
    return delivery
