"""Dashboards: the figures each role opens, each with its time series, counted in SQL.

Every figure is one GROUP BY over the records the viewer may read (`domain.policies.rows`),
narrowed by the dashboard filter (period, team, owner): the database does the counting, so a
figure costs the same few statements whatever the number of records. Python only turns the
grouped rows (one per bucket, stage or owner) into figures and fills empty buckets with zero.
Contacts, deals and tickets are counted from their summary tables (`db.dashboard_counts`,
rows per agency, owner, day and status kept exact by triggers), whose owner column takes
the same row scope, so a year of a million contacts is a few thousand rows to add up.

Time buckets are calendar days, ISO weeks (Monday first) or months in UTC. SQLite keeps
datetimes as ISO text, so its bucket expressions are `date()`/`strftime()`; PostgreSQL's are
`date_trunc` in UTC; both give the bucket's first day as `YYYY-MM-DD` text.

Which date places a record in the period (and in a bucket) depends on the figure: the
pipeline (open deals) goes by the expected close date, so its series is the forecast; won
and lost deals by the day they closed; contacts by the day they came in; calling tasks by
their due time; meetings by their start. Amounts are summed as stored: there are no exchange
rates, so an agency that sells in several currencies gives the `currency` filter.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count, Sum
from tortoise.models import Model
from tortoise.queryset import QuerySet

from db.broadcasts import Broadcast, BroadcastRun
from db.calling_tasks import CallingTask
from db.dashboard_counts import (
    NO_OWNER,
    OPEN_DAY,
    ContactDayCount,
    DealDayCount,
    TicketDayCount,
)
from db.deals import Deal
from db.flow_runs import FlowRun
from db.leads import Lead
from db.meetings import Meeting
from db.outbox import OutboxMessage
from db.pipelines import Stage
from db.users import User
from db.webhooks import WebhookDelivery
from domain.actors import Actor
from domain.errors import DomainError
from domain.policies import require, rows
from domain.quotas import EARLIEST, LATEST, Attainment, quotas
from domain.roles import Access, Resource
from domain.users import unit_members

if TYPE_CHECKING:
    from domain.dashboard_operations import EventLag, ImportProgress
    from domain.dashboard_sales import CampaignSource, CompetitorFigure
    from domain.dashboard_stages import StageConversion, StageTime

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
ZERO = Decimal(0)
# How long a period may be, in buckets: enough for a daily chart of a year, a weekly one of
# ten years.
MAX_BUCKETS = 550


class DashboardErrorCode(StrEnum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class DashboardFilter:
    """The period (both days included), the series' bucket, and whose records count."""

    start: date
    end: date
    bucket: Bucket = Bucket.MONTH
    team_id: UUID | None = None  # an org unit: its members and those of the units below
    owner_id: UUID | None = None
    currency: str | None = None

    def checked(self) -> DashboardFilter:
        for day, name in ((self.start, "from"), (self.end, "to")):
            if not EARLIEST <= day <= LATEST:
                raise DomainError(
                    DashboardErrorCode.INVALID,
                    f"Give a day from {EARLIEST.isoformat()} to {LATEST.isoformat()}.",
                    name,
                )
        if self.end < self.start:
            raise DomainError(DashboardErrorCode.INVALID, "The period ends before it starts.", "to")
        if len(bucket_starts(self)) > MAX_BUCKETS:
            raise DomainError(
                DashboardErrorCode.INVALID,
                f"The period holds more than {MAX_BUCKETS} {self.bucket.value}s: "
                "choose a longer bucket or a shorter period.",
                "bucket",
            )
        return self

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)


@dataclass(frozen=True)
class Point:
    start: date  # the bucket's first day
    value: Decimal


@dataclass(frozen=True)
class Figure:
    value: Decimal
    series: list[Point]


@dataclass(frozen=True)
class StageFigure:
    stage_id: UUID
    stage_name: str
    probability: int
    owner_id: UUID | None
    deals: int
    amount: Decimal
    weighted_amount: Decimal


@dataclass(frozen=True)
class OwnerRevenue:
    owner_id: UUID | None
    owner_name: str
    won_deals: int
    won_amount: Decimal
    share: Decimal  # of the team's won amount, 0 to 1


@dataclass(frozen=True)
class CloseReason:
    status: str  # won or lost
    reason: str
    deals: int
    amount: Decimal


@dataclass(frozen=True)
class LeadSource:
    source: str
    leads: int
    converted: int
    won_deals: int  # deals won in the period from leads of this source (whenever they came)
    won_amount: Decimal


@dataclass(frozen=True)
class SalesDashboard:
    """A sales person's own figures (or whoever the filter and the viewer's scope cover)."""

    open_deals: Figure
    pipeline_amount: Figure
    weighted_pipeline: Figure
    open_deals_by_stage: list[StageFigure]
    calling_tasks_due_today: int
    calling_tasks_overdue: int
    calling_tasks_due: Figure
    calls_done: Figure
    meetings: Figure
    new_contacts: Figure
    converted_contacts: Figure
    contact_conversion_rate: Figure
    quotas: list[Attainment]
    emails_sent: Figure  # to the owner's contacts and customers (domain.dashboard_sales)
    activities: Figure  # calls done, meetings and emails sent


@dataclass(frozen=True)
class SalesHeadDashboard:
    pipeline_by_stage_and_owner: list[StageFigure]
    weighted_forecast: Figure
    won_deals: Figure
    lost_deals: Figure
    won_amount: Figure
    win_rate: Figure
    average_deal_size: Figure
    sales_cycle_days: Figure
    sales_velocity: Decimal  # won amount a day: open deals x win rate x average size / cycle
    close_reasons: list[CloseReason]
    revenue_by_owner: list[OwnerRevenue]
    lead_sources: list[LeadSource]
    # From the deals' stage history (domain.dashboard_stages).
    stage_conversion: list[StageConversion]
    time_in_stage: list[StageTime]
    stage_entries: Figure
    stage_advance_rate: Figure
    days_in_stage: Figure
    # domain.dashboard_sales
    competitors: list[CompetitorFigure]
    lead_campaigns: list[CampaignSource]


def bucket_start(day: date, bucket: Bucket) -> date:
    if bucket is Bucket.DAY:
        return day
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def bucket_starts(period: DashboardFilter) -> list[date]:
    """Every bucket the period touches, in order (the first may start before the period)."""
    starts: list[date] = []
    current = bucket_start(period.start, period.bucket)
    while current <= period.end and len(starts) <= MAX_BUCKETS:
        starts.append(current)
        if period.bucket is Bucket.DAY:
            current += timedelta(days=1)
        elif period.bucket is Bucket.WEEK:
            current += timedelta(days=7)
        else:
            current = (current + timedelta(days=32)).replace(day=1)
    return starts


def _is_postgres(model: type[Model]) -> bool:
    return bool(model._meta.db.capabilities.dialect == "postgres")


def _bucket_sql(model: type[Model], column: str, bucket: Bucket, is_date: bool = False) -> RawSQL:
    """The SQL of a row's bucket: its first day (`YYYY-MM-DD` text on SQLite, a timestamp
    on PostgreSQL: either way its first ten characters as text)."""
    quoted = f'"{column}"'
    if _is_postgres(model):
        # Both as timestamps without a zone: a date as it is, a moment as UTC wall time.
        utc = f"{quoted}::timestamp" if is_date else f"({quoted} AT TIME ZONE 'UTC')"
        unit = {Bucket.DAY: "day", Bucket.WEEK: "week", Bucket.MONTH: "month"}[bucket]
        # Grouped by the truncated timestamp itself (formatting each row first costs more).
        return RawSQL(f"date_trunc('{unit}', {utc})")
    if bucket is Bucket.DAY:
        return RawSQL(f"date({quoted})")
    if bucket is Bucket.WEEK:
        return RawSQL(f"date({quoted}, 'weekday 0', '-6 days')")
    return RawSQL(f"strftime('%Y-%m-01', {quoted})")


def _days_between_sql(model: type[Model], since: str, until: str) -> RawSQL:
    """The sum over the group of the days from one datetime column to another."""
    if _is_postgres(model):
        return RawSQL(f'SUM(EXTRACT(EPOCH FROM ("{until}" - "{since}")) / 86400.0)')
    return RawSQL(f'SUM(julianday("{until}") - julianday("{since}"))')


def _number(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


def _money(value: Any) -> Decimal:
    return _number(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _ratio(part: Decimal, whole: Decimal, quantum: Decimal = RATIO) -> Decimal:
    return (part / whole).quantize(quantum, rounding=ROUND_HALF_UP) if whole else ZERO


@dataclass
class _Grouped:
    """Grouped rows by bucket: the count and each summed column."""

    counts: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    sums: dict[str, dict[date, Decimal]] = field(default_factory=lambda: defaultdict(dict))

    def figure(self, period: DashboardFilter, column: str | None = None, per: int = 1) -> Figure:
        """The count, or a summed column divided by `per` (cents and milliseconds summed
        as integers become amounts and days)."""
        values = self.sums[column] if column else {k: Decimal(v) for k, v in self.counts.items()}
        series = [Point(start, values.get(start, ZERO) / per) for start in bucket_starts(period)]
        return Figure(sum((point.value for point in series), ZERO), series)


async def _by_bucket(
    query: QuerySet[Any],
    model: type[Model],
    column: str,
    bucket: Bucket,
    is_date: bool = False,
    sums: dict[str, Any] | None = None,
    count: Any = None,
) -> _Grouped:
    """`count` is what counts a row (a summary row holds many records): one by default."""
    sums = sums or {}
    grouped = _Grouped()
    annotated = query.annotate(
        bucket=_bucket_sql(model, column, bucket, is_date), n=count or Count("id"), **sums
    )
    for row in await annotated.group_by("bucket").values("bucket", "n", *sums):
        start = date.fromisoformat(str(row["bucket"])[:10])
        grouped.counts[start] += int(row["n"])
        for name in sums:
            grouped.sums[name][start] = _number(row[name])
    return grouped


async def _scope(
    actor: Actor,
    period: DashboardFilter,
    owner_field: str = "owner_id",
    resource: Resource = Resource.SALES_RECORDS,
) -> Q:
    """The viewer's rows narrowed to the filter's team and owner (records or summary rows:
    a summary keyed by owner answers an own or team scope as the records would). A sales
    person's dashboard counts the tickets assigned to them, not their customers' tickets
    that they may also read: the ticket summary is keyed by assignee."""
    narrowed = rows(actor, resource, Access.READ, owner_field, by_owner_only=True)
    if period.team_id is not None:
        members = await unit_members(actor.agency_id, period.team_id)
        team: dict[str, Any] = {f"{owner_field}__in": list(members)}
        narrowed &= Q(**team)
    if period.owner_id is not None:
        owner: dict[str, Any] = {owner_field: period.owner_id}
        narrowed &= Q(**owner)
    return narrowed


async def _owners(
    actor: Actor,
    period: DashboardFilter,
    owner_field: str = "owner_id",
    resource: Resource = Resource.SALES_RECORDS,
) -> Q:
    """The viewer's live records narrowed to the filter's team and owner."""
    return await _scope(actor, period, owner_field, resource) & Q(deleted_at__isnull=True)


async def _deals(actor: Actor, period: DashboardFilter) -> Q:
    found = await _owners(actor, period)
    if period.currency:
        found &= Q(currency=period.currency)
    return found


async def _deal_counts(actor: Actor, period: DashboardFilter) -> QuerySet[DealDayCount]:
    """The summary rows of the viewer's deals (`db.dashboard_counts`: live deals only)."""
    found = await _scope(actor, period)
    if period.currency:
        found &= Q(currency=period.currency)
    return DealDayCount.filter(found)


def _owner_of(row: dict[str, Any]) -> UUID | None:
    owner = row.get("owner_id")
    return None if owner is None or UUID(str(owner)) == NO_OWNER else UUID(str(owner))


CENTS = 100
MILLISECONDS_A_DAY = 86_400_000


async def _stages(actor: Actor) -> dict[UUID, Stage]:
    return {stage.id: stage for stage in await Stage.filter(agency_id=actor.agency_id)}


async def _pipeline(
    actor: Actor, period: DashboardFilter, by_owner: bool
) -> tuple[list[StageFigure], _Grouped, Figure]:
    """Open deals due to close in the period: by stage (and owner), and by bucket; and the
    weighted series (each stage's amount times its probability). From the deal summary,
    whose day of an open deal is its expected close date."""
    scoped = (await _deal_counts(actor, period)).filter(
        status="open", day__gte=period.start, day__lte=period.end
    )
    keys = ["stage_id", "owner_id"] if by_owner else ["stage_id"]
    # Two groupings: by stage (and owner), and by bucket and stage, from which the count,
    # amount and weighted series come (a stage's probability applies to its whole sum).
    stages, grouped, by_bucket_and_stage = await asyncio.gather(
        _stages(actor),
        scoped.annotate(n=Sum("deals"), amount_sum=Sum("amount_cents"))
        .group_by(*keys)
        .values(*keys, "n", "amount_sum"),
        scoped.annotate(
            bucket=_bucket_sql(DealDayCount, "day", period.bucket, True),
            n=Sum("deals"),
            amount_sum=Sum("amount_cents"),
        )
        .group_by("bucket", "stage_id")
        .values("bucket", "stage_id", "n", "amount_sum"),
    )
    figures: list[StageFigure] = []
    # A summary row whose records all moved on holds zero: the records list no such group.
    for row in (row for row in grouped if row["n"]):
        stage = stages[UUID(str(row["stage_id"]))]
        amount = _money(_number(row["amount_sum"]) / CENTS)
        figures.append(
            StageFigure(
                stage_id=stage.id,
                stage_name=stage.name,
                probability=stage.probability,
                owner_id=_owner_of(row),
                deals=int(row["n"]),
                amount=amount,
                weighted_amount=_money(amount * stage.probability / 100),
            )
        )
    figures.sort(key=lambda f: (stages[f.stage_id].position, f.stage_name, str(f.owner_id)))
    by_bucket = _Grouped()
    weighted: dict[date, Decimal] = defaultdict(Decimal)
    for row in by_bucket_and_stage:
        stage = stages[UUID(str(row["stage_id"]))]
        start = date.fromisoformat(str(row["bucket"])[:10])
        amount = _number(row["amount_sum"]) / CENTS
        by_bucket.counts[start] += int(row["n"])
        by_bucket.sums["amount_sum"][start] = by_bucket.sums["amount_sum"].get(start, ZERO) + amount
        weighted[start] += amount * stage.probability / 100
    series = [Point(s, _money(weighted.get(s, ZERO))) for s in bucket_starts(period)]
    return figures, by_bucket, Figure(_money(sum(weighted.values(), ZERO)), series)


def _money_figure(figure: Figure) -> Figure:
    return Figure(_money(figure.value), [Point(p.start, _money(p.value)) for p in figure.series])


def _rate(part: Figure, whole: Figure, quantum: Decimal = RATIO) -> Figure:
    """part / whole, for the total and for each bucket (zero where the whole is zero)."""
    return Figure(
        _ratio(part.value, whole.value, quantum),
        [
            Point(p.start, _ratio(p.value, w.value, quantum))
            for p, w in zip(part.series, whole.series, strict=True)
        ],
    )


async def _count(query: QuerySet[Any]) -> int:
    return await query.count()


async def sales_dashboard(actor: Actor, period: DashboardFilter) -> SalesDashboard:
    """The statements are independent: they run at once, each on a connection of the pool."""
    period = period.checked()
    now = datetime.now(UTC)
    today = datetime.combine(now.date(), time(), UTC)
    owned = await _owners(actor, period)
    tasks = CallingTask.filter(await _owners(actor, period, "assignee_id"))
    waiting = tasks.filter(status__in=["new", "scheduled", "rescheduled"])
    # New contacts by the day they came in: the summary (`db.dashboard_counts`) holds them.
    contacts = ContactDayCount.filter(
        await _scope(actor, period), day__gte=period.start, day__lte=period.end
    )
    # Started at once, awaited in turn.
    start = asyncio.create_task
    pipeline_task = start(_pipeline(actor, period, by_owner=False))
    due_task = start(
        _by_bucket(
            tasks.filter(due_at__gte=period.since, due_at__lt=period.until),
            CallingTask,
            "due_at",
            period.bucket,
        )
    )
    done_task = start(
        _by_bucket(
            tasks.filter(status="done", updated_at__gte=period.since, updated_at__lt=period.until),
            CallingTask,
            "updated_at",
            period.bucket,
        )
    )
    meetings_task = start(
        _by_bucket(
            Meeting.filter(
                owned,
                status__in=["booked", "held"],
                starts_at__gte=period.since,
                starts_at__lt=period.until,
            ),
            Meeting,
            "starts_at",
            period.bucket,
        )
    )
    created_task = start(
        _by_bucket(contacts, ContactDayCount, "day", period.bucket, True, count=Sum("contacts"))
    )
    converted_task = start(
        _by_bucket(
            contacts.filter(status="converted"),
            ContactDayCount,
            "day",
            period.bucket,
            True,
            count=Sum("contacts"),
        )
    )
    today_task = start(
        _count(waiting.filter(due_at__gte=today, due_at__lt=today + timedelta(days=1)))
    )
    overdue_task = start(_count(waiting.filter(due_at__lt=now)))
    quotas_task = start(quotas(actor, period.start, period.end))
    emails_task = start(dashboard_sales.emails_sent(actor, period))
    by_stage, pipeline, weighted = await pipeline_task
    due, done, meetings = await due_task, await done_task, await meetings_task
    created, converted_grouped = await created_task, await converted_task
    due_today, overdue, quota_list = await today_task, await overdue_task, await quotas_task
    new_contacts, converted = created.figure(period), converted_grouped.figure(period)
    return SalesDashboard(
        open_deals=pipeline.figure(period),
        pipeline_amount=_money_figure(pipeline.figure(period, "amount_sum")),
        weighted_pipeline=weighted,
        open_deals_by_stage=by_stage,
        calling_tasks_due_today=due_today,
        calling_tasks_overdue=overdue,
        calling_tasks_due=due.figure(period),
        calls_done=done.figure(period),
        meetings=meetings.figure(period),
        new_contacts=new_contacts,
        converted_contacts=converted,
        contact_conversion_rate=_rate(converted, new_contacts),
        quotas=quota_list,
        emails_sent=(emails := await emails_task),
        activities=dashboard_sales.plus(done.figure(period), meetings.figure(period), emails),
    )


async def _owner_names(actor: Actor, owner_ids: Iterable[UUID | None]) -> dict[UUID, str]:
    ids = [owner for owner in owner_ids if owner is not None]
    found = await User.filter(agency_id=actor.agency_id, id__in=ids).values_list("id", "name")
    return {UUID(str(user_id)): name for user_id, name in found}


async def _rows(query: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await query
    return found


async def sales_head_dashboard(
    actor: Actor, period: DashboardFilter, *, stage_history: bool = True
) -> SalesHeadDashboard:
    """The statements are independent: they run at once, each on a connection of the pool.

    `stage_history=False` leaves the figures from the stage history empty: the API counts
    them only when a query selects one (they read every entry of the period, the dashboard's
    slowest statements), reports always."""
    period = period.checked()
    start = asyncio.create_task
    closed = Deal.filter(
        await _deals(actor, period),
        status__in=["won", "lost"],
        closed_at__gte=period.since,
        closed_at__lt=period.until,
    )
    # The deal summary's day of a won or lost deal is the UTC day it closed.
    closed_counts = (await _deal_counts(actor, period)).filter(
        status__in=["won", "lost"], day__gte=period.start, day__lte=period.end
    )
    leads = Lead.filter(
        await _owners(actor, period), created_at__gte=period.since, created_at__lt=period.until
    )
    pipeline_task = start(_pipeline(actor, period, by_owner=True))
    won_task = start(
        _by_bucket(
            closed_counts.filter(status="won"),
            DealDayCount,
            "day",
            period.bucket,
            True,
            sums={"amount_sum": Sum("amount_cents"), "cycle_sum": Sum("cycle_ms")},
            count=Sum("deals"),
        )
    )
    lost_task = start(
        _by_bucket(
            closed_counts.filter(status="lost"),
            DealDayCount,
            "day",
            period.bucket,
            True,
            count=Sum("deals"),
        )
    )
    reasons_task = start(
        _rows(
            closed_counts.annotate(n=Sum("deals"), amount_sum=Sum("amount_cents"))
            .group_by("status", "close_reason")
            .values("status", "close_reason", "n", "amount_sum")
        )
    )
    revenue_task = start(
        _rows(
            closed_counts.filter(status="won")
            .annotate(n=Sum("deals"), amount_sum=Sum("amount_cents"))
            .group_by("owner_id")
            .values("owner_id", "n", "amount_sum")
        )
    )
    leads_task = start(
        _rows(leads.annotate(n=Count("id")).group_by("source").values("source", "n"))
    )
    # A deal keeps its lead's id: the lead's source, by a scalar subquery (no join needed).
    won_by_source_task = start(
        _rows(
            closed.filter(status="won", lead_id__isnull=False)
            .annotate(
                lead_source=RawSQL(
                    '(SELECT "source" FROM "lead" WHERE "lead"."id" = "deal"."lead_id")'
                ),
                n=Count("id"),
                amount_sum=Sum("amount"),
            )
            .group_by("lead_source")
            .values("lead_source", "n", "amount_sum")
        )
    )
    converted_task = start(
        _rows(
            leads.filter(status="converted")
            .annotate(n=Count("id"))
            .group_by("source")
            .values("source", "n")
        )
    )
    flow_task = start(
        dashboard_stages.stage_flow(actor, period)
        if stage_history
        else dashboard_stages.no_stage_flow(period)
    )
    competitors_task = start(dashboard_sales.won_and_lost_by_competitor(actor, period))
    campaigns_task = start(dashboard_sales.leads_by_campaign(actor, period))
    by_stage, pipeline, weighted = await pipeline_task
    won, lost = await won_task, await lost_task
    won_deals, lost_deals = won.figure(period), lost.figure(period)
    won_amount = _money_figure(won.figure(period, "amount_sum", CENTS))
    decided = Figure(
        won_deals.value + lost_deals.value,
        [
            Point(w.start, w.value + lo.value)
            for w, lo in zip(won_deals.series, lost_deals.series, strict=True)
        ],
    )
    win_rate = _rate(won_deals, decided)
    average = _rate(won_amount, won_deals, CENT)
    cycle = _rate(won.figure(period, "cycle_sum", MILLISECONDS_A_DAY), won_deals, CENT)
    velocity = (
        _money(pipeline.figure(period).value * win_rate.value * average.value / cycle.value)
        if cycle.value
        else ZERO
    )
    reasons = [
        CloseReason(
            row["status"],
            row["close_reason"],
            int(row["n"]),
            _money(_number(row["amount_sum"]) / CENTS),
        )
        for row in await reasons_task
        if row["n"]
    ]
    reasons.sort(key=lambda r: (r.status, -r.deals, r.reason))
    revenue_rows = [row for row in await revenue_task if row["n"]]
    owners = [_owner_of(row) for row in revenue_rows]
    names = await _owner_names(actor, owners)
    revenue = [
        OwnerRevenue(
            owner_id=owner,
            owner_name=names.get(owner, "") if owner else "",
            won_deals=int(row["n"]),
            won_amount=_money(_number(row["amount_sum"]) / CENTS),
            share=_ratio(_money(_number(row["amount_sum"]) / CENTS), won_amount.value),
        )
        for owner, row in zip(owners, revenue_rows, strict=True)
    ]
    revenue.sort(key=lambda r: (-r.won_amount, str(r.owner_id)))
    all_leads = {row["source"]: row["n"] for row in await leads_task}
    converted_leads = {row["source"]: row["n"] for row in await converted_task}
    won_by_source = {
        row["lead_source"]: (row["n"], _money(row["amount_sum"]))
        for row in await won_by_source_task
        if row["lead_source"] is not None
    }
    return SalesHeadDashboard(
        pipeline_by_stage_and_owner=by_stage,
        weighted_forecast=weighted,
        won_deals=won_deals,
        lost_deals=lost_deals,
        won_amount=won_amount,
        win_rate=win_rate,
        average_deal_size=average,
        sales_cycle_days=cycle,
        sales_velocity=velocity,
        close_reasons=reasons,
        revenue_by_owner=revenue,
        lead_sources=[
            LeadSource(
                source,
                all_leads.get(source, 0),
                converted_leads.get(source, 0),
                *won_by_source.get(source, (0, ZERO.quantize(CENT))),
            )
            for source in sorted({*all_leads, *won_by_source})
        ],
        stage_conversion=(flow := await flow_task).conversions,
        time_in_stage=flow.times,
        stage_entries=flow.stage_entries,
        stage_advance_rate=flow.stage_advance_rate,
        days_in_stage=flow.days_in_stage,
        competitors=await competitors_task,
        lead_campaigns=await campaigns_task,
    )


@dataclass(frozen=True)
class TicketCount:
    status: str
    priority: str
    tickets: int


@dataclass(frozen=True)
class SupportDashboard:
    """The service desk over the tickets the viewer may read (by assignee)."""

    open_tickets: list[TicketCount]  # now: new, open and pending, by status and priority
    new_tickets: Figure
    resolved_tickets: Figure
    first_response_breaches: Figure
    resolution_breaches: Figure
    sla_attainment: Figure
    first_response_hours: Figure
    resolution_hours: Figure
    satisfaction: Figure
    ratings: Figure


def _hours(days: Figure, count: Figure) -> Figure:
    """Average hours from summed days (rounded to the microhour first: the databases' float
    day arithmetic leaves noise that could tip a cent) and a count."""

    def hours(value: Decimal) -> Decimal:
        return (value * 24).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)

    summed = Figure(hours(days.value), [Point(p.start, hours(p.value)) for p in days.series])
    return _rate(summed, count, CENT)


async def support_dashboard(actor: Actor, period: DashboardFilter) -> SupportDashboard:
    """Two statements over the ticket summary (`db.dashboard_counts`): every figure of the
    period by figure and bucket, and the open tickets by status and priority."""
    period = period.checked()
    scoped = TicketDayCount.filter(await _scope(actor, period, "assignee_id", Resource.TICKETS))
    open_rows, period_rows = await asyncio.gather(
        _rows(
            scoped.filter(figure="open", day=OPEN_DAY)
            .annotate(n=Sum("tickets"))
            .group_by("status", "priority")
            .values("status", "priority", "n")
        ),
        _rows(
            scoped.filter(day__gte=period.start, day__lte=period.end)
            .exclude(figure="open")
            .annotate(
                bucket=_bucket_sql(TicketDayCount, "day", period.bucket, True),
                n=Sum("tickets"),
                total_sum=Sum("total"),
            )
            .group_by("figure", "bucket")
            .values("figure", "bucket", "n", "total_sum")
        ),
    )
    by_figure: dict[str, _Grouped] = defaultdict(_Grouped)
    for row in period_rows:
        start = date.fromisoformat(str(row["bucket"])[:10])
        grouped = by_figure[row["figure"]]
        grouped.counts[start] += int(row["n"])
        grouped.sums["total"][start] = _number(row["total_sum"])
    created, targeted_grouped, breached = (
        by_figure["created"],
        by_figure["targeted"],
        by_figure["missed"],
    )
    first, resolved, rated = by_figure["first_response"], by_figure["resolved"], by_figure["rated"]
    open_tickets = [
        TicketCount(row["status"], row["priority"], int(row["n"])) for row in open_rows if row["n"]
    ]
    open_tickets.sort(key=lambda c: (c.status, c.priority))
    targeted, missed = targeted_grouped.figure(period), breached.figure(period)
    met = Figure(
        targeted.value - missed.value,
        [
            Point(t.start, t.value - m.value)
            for t, m in zip(targeted.series, missed.series, strict=True)
        ],
    )
    return SupportDashboard(
        open_tickets=open_tickets,
        new_tickets=created.figure(period),
        resolved_tickets=resolved.figure(period),
        first_response_breaches=by_figure["first_response_breach"].figure(period),
        resolution_breaches=by_figure["resolution_breach"].figure(period),
        sla_attainment=_rate(met, targeted),
        first_response_hours=_hours(
            first.figure(period, "total", MILLISECONDS_A_DAY), first.figure(period)
        ),
        resolution_hours=_hours(
            resolved.figure(period, "total", MILLISECONDS_A_DAY), resolved.figure(period)
        ),
        satisfaction=_rate(rated.figure(period, "total"), rated.figure(period), CENT),
        ratings=rated.figure(period),
    )


@dataclass(frozen=True)
class FlowRunCount:
    flow_key: str
    version: int
    status: str
    runs: int


@dataclass(frozen=True)
class StatusCount:
    status: str
    count: int


@dataclass(frozen=True)
class BroadcastProgress:
    broadcast_id: UUID
    name: str
    occurrence: str
    status: str
    targeted: int
    sent: int
    failed: int


@dataclass(frozen=True)
class SysadminDashboard:
    """The machinery of the viewer's agency: flow runs, the outbox, webhooks, broadcasts."""

    flow_runs: list[FlowRunCount]  # started in the period, by definition version and status
    flow_runs_started: Figure
    flow_runs_failed: Figure  # runs that failed or stalled, by their last change
    outbox_pending: int  # now
    outbox_retrying: int  # pending after at least one failed attempt
    outbox_oldest_pending_seconds: int
    webhook_deliveries: list[StatusCount]  # created in the period, by status
    webhook_failures: Figure
    webhook_retried: Figure  # deliveries that needed more than one attempt
    broadcast_runs: list[BroadcastProgress]  # runs started in the period
    event_lag: EventLag  # now (domain.dashboard_operations)
    imports: list[ImportProgress]  # running now, or uploaded in the period


MAX_BROADCAST_RUNS = 100


async def sysadmin_dashboard(actor: Actor, period: DashboardFilter) -> SysadminDashboard:
    period = period.checked()
    require(actor, Resource.FLOWS, Access.READ)
    agency = Q(agency_id=actor.agency_id)
    started = FlowRun.filter(agency, created_at__gte=period.since, created_at__lt=period.until)
    flow_runs = [
        FlowRunCount(row["flow_key"], row["version"], row["status"], row["n"])
        for row in await started.annotate(n=Count("id"))
        .group_by("flow_key", "version", "status")
        .values("flow_key", "version", "status", "n")
    ]
    flow_runs.sort(key=lambda c: (c.flow_key, c.version, c.status))
    failed = await _by_bucket(
        FlowRun.filter(
            agency,
            status__in=["failed", "stalled"],
            updated_at__gte=period.since,
            updated_at__lt=period.until,
        ),
        FlowRun,
        "updated_at",
        period.bucket,
    )
    pending = OutboxMessage.filter(agency, status="pending")
    oldest = await pending.order_by("created_at").first()
    age = int((datetime.now(UTC) - oldest.created_at).total_seconds()) if oldest else 0
    deliveries = WebhookDelivery.filter(
        agency, created_at__gte=period.since, created_at__lt=period.until
    )
    by_status = [
        StatusCount(row["status"], row["n"])
        for row in await deliveries.annotate(n=Count("id")).group_by("status").values("status", "n")
    ]
    by_status.sort(key=lambda c: c.status)
    runs = (
        await BroadcastRun.filter(agency, started_at__gte=period.since, started_at__lt=period.until)
        .order_by("-started_at")
        .limit(MAX_BROADCAST_RUNS)
    )
    names = dict(
        await Broadcast.filter(agency, id__in=[run.broadcast_id for run in runs]).values_list(
            "id", "name"
        )
    )
    return SysadminDashboard(
        flow_runs=flow_runs,
        flow_runs_started=(await _by_bucket(started, FlowRun, "created_at", period.bucket)).figure(
            period
        ),
        flow_runs_failed=failed.figure(period),
        outbox_pending=await pending.count(),
        outbox_retrying=await pending.filter(attempts__gt=0).count(),
        outbox_oldest_pending_seconds=max(age, 0),
        webhook_deliveries=by_status,
        webhook_failures=(
            await _by_bucket(
                deliveries.filter(status="failed"), WebhookDelivery, "created_at", period.bucket
            )
        ).figure(period),
        webhook_retried=(
            await _by_bucket(
                deliveries.filter(attempts__gt=1), WebhookDelivery, "created_at", period.bucket
            )
        ).figure(period),
        broadcast_runs=[
            BroadcastProgress(
                broadcast_id=run.broadcast_id,
                name=names.get(run.broadcast_id, ""),
                occurrence=run.occurrence,
                status=run.status,
                targeted=run.targeted,
                sent=run.sent,
                failed=run.failed,
            )
            for run in runs
        ],
        event_lag=await dashboard_operations.event_lag(actor),
        imports=await dashboard_operations.import_progress(actor, period),
    )


# The figures built on this module's helpers, in modules of their own (imported last: they
# import this one).
from domain import dashboard_operations, dashboard_sales, dashboard_stages  # noqa: E402
