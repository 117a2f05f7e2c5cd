"""Campaign counters: views, likes and enrolments per campaign per UTC day, exact under
concurrency.

Each count is one upsert of its quarter hour's row (`INSERT .. ON CONFLICT .. DO UPDATE SET
x = x + excluded.x`), as `domain.rate_limits` counts requests: the database adds, never the
caller, so two processes counting at once both land (no read-modify-write to lose an
increment). SQLite serialises the writes, PostgreSQL locks the one row for the instant of the
update. The per-day series the charts read sums a day's quarters; quarter hours (rather than
days) let an owner's daily summary count their own local day exactly, whatever their time
zone (every zone's offset is whole quarter hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Sum

from db.campaigns import CampaignDailyCount
from db.event_signals import is_postgres

# The longest series one request may read (a year and a day: a leap year's campaign).
MAX_SERIES_DAYS = 366
_FIELDS = CampaignDailyCount._meta.fields_map
_COLUMNS = ("views", "likes", "enrolments")


class CounterKind(StrEnum):
    VIEW = "views"
    LIKE = "likes"
    ENROLMENT = "enrolments"


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    views: int = 0
    likes: int = 0
    enrolments: int = 0


@dataclass(frozen=True, slots=True)
class Totals:
    views: int = 0
    likes: int = 0
    enrolments: int = 0


def _db(name: str, value: object) -> object:
    return _FIELDS[name].to_db_value(value, CampaignDailyCount)


async def count(
    campaign_id: UUID,
    kind: CounterKind,
    at: datetime,
    units: int = 1,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """Add `units` to the campaign's `kind` on `at`'s UTC day, in the caller's transaction if
    one is given."""
    conn = connection or connections.get("default")
    column = CounterKind(kind).value
    marks = ("$1", "$2", "$3", "$4") if is_postgres(conn) else ("?", "?", "?", "?")
    values = ", ".join(marks[3] if c == column else "0" for c in _COLUMNS)
    moment = at.astimezone(UTC)
    await conn.execute_query(
        "INSERT INTO campaign_daily_count "
        f"(campaign_id, day, quarter_hour, {', '.join(_COLUMNS)}) "
        f"VALUES ({marks[0]}, {marks[1]}, {marks[2]}, {values}) "
        f"ON CONFLICT (campaign_id, day, quarter_hour) DO UPDATE SET {column} = "
        f"campaign_daily_count.{column} + excluded.{column}",
        [
            _db("campaign_id", campaign_id),
            _db("day", moment.date()),
            moment.hour * 4 + moment.minute // 15,
            units,
        ],
    )


async def series(campaign_id: UUID, since: date, until: date) -> list[DayCount]:
    """Every day from `since` to `until` (both included, UTC days), zeros where nothing was
    counted, so a chart needs no gap filling."""
    if until < since:
        return []
    until = min(until, since + timedelta(days=MAX_SERIES_DAYS - 1))
    rows = (
        await CampaignDailyCount.filter(campaign_id=campaign_id, day__gte=since, day__lte=until)
        .group_by("day")
        .annotate(v=Sum("views"), l=Sum("likes"), e=Sum("enrolments"))
        .values("day", "v", "l", "e")
    )
    found = {_day(row["day"]): row for row in rows}
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    return [
        DayCount(d, int(found[d]["v"]), int(found[d]["l"]), int(found[d]["e"]))
        if d in found
        else DayCount(d)
        for d in days
    ]


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def between(campaign_ids: list[UUID], start: datetime, end: datetime) -> dict[UUID, Totals]:
    """Each campaign's counts in [start, end), to the quarter hour (an owner's local day)."""
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    found: dict[UUID, list[int]] = {campaign_id: [0, 0, 0] for campaign_id in campaign_ids}
    rows = await CampaignDailyCount.filter(
        campaign_id__in=campaign_ids, day__gte=first.date(), day__lte=last.date()
    ).values_list("campaign_id", "day", "quarter_hour", "views", "likes", "enrolments")
    for campaign_id, day, quarter, views, likes, enrolments in rows:
        day_start = datetime.combine(_day(day), datetime.min.time(), UTC)
        if first <= day_start + timedelta(minutes=15 * quarter) < last:
            sums = found[UUID(str(campaign_id))]
            sums[0] += views
            sums[1] += likes
            sums[2] += enrolments
    return {campaign_id: Totals(*sums) for campaign_id, sums in found.items()}


async def totals(
    campaign_ids: list[UUID], connection: BaseDBAsyncClient | None = None
) -> dict[UUID, Totals]:
    """Each campaign's totals over all days (campaigns with nothing counted: zeros)."""
    found = {campaign_id: Totals() for campaign_id in campaign_ids}
    if not campaign_ids:
        return found
    query = CampaignDailyCount.filter(campaign_id__in=campaign_ids)
    rows = (
        await (query.using_db(connection) if connection else query)
        .group_by("campaign_id")
        .annotate(v=Sum("views"), l=Sum("likes"), e=Sum("enrolments"))
        .values("campaign_id", "v", "l", "e")
    )
    for row in rows:
        key = row["campaign_id"]
        key = key if isinstance(key, UUID) else UUID(str(key))
        found[key] = Totals(int(row["v"] or 0), int(row["l"] or 0), int(row["e"] or 0))
    return found
