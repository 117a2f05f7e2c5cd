"""Business time: opening hours, holidays and SLA clocks as pure arithmetic.

No I/O and no db import: the `TicketSla` workflow imports this module, and the API computes a
ticket's time left with the very same functions, so the two never disagree. Holidays come in
as dates (the service resolves a country's public holidays with the `holidays` library before
they get here), and the time zone is an IANA name.

A clock runs from `started_at` and is stopped for pauses (a Pending ticket). Its business time
spent at a moment is the business time since it started, less the business time of its ended
pauses; while paused it stands still. It is due when that reaches its target.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_A_DAY = 24 * 60
# No calendar needs more than this to fit a target in (a year of holidays and then some).
MAX_DAYS_AHEAD = 3 * 366


def _nine_to_five() -> list[list[list[int]]]:
    return [[[9 * 60, 17 * 60]] for _ in range(5)] + [[], []]


@dataclass(frozen=True)
class BusinessCalendar:
    """When the support team works: per weekday (Monday first) intervals of minutes of the
    day, [start, end), in `time_zone`; holidays as ISO dates, closed all day."""

    time_zone: str = "UTC"
    weekly_hours: list[list[list[int]]] = field(default_factory=_nine_to_five)
    holidays: list[str] = field(default_factory=list)

    def is_open_some_time(self) -> bool:
        return any(end > start for day in self.weekly_hours for start, end in day)


def check_weekly_hours(weekly_hours: list[list[list[int]]]) -> str | None:
    """Why the hours are not a week of intervals, or None."""
    if len(weekly_hours) != 7:
        return "Give the hours of all seven days, Monday first (an empty list: closed)."
    for day in weekly_hours:
        previous_end = 0
        for interval in sorted(day):
            if len(interval) != 2:
                return "Each interval is [start minute, end minute]."
            start, end = interval
            if not 0 <= start < end <= MINUTES_A_DAY:
                return "An interval starts before it ends, within the day (0 to 1440)."
            if start < previous_end:
                return "Intervals of a day must not overlap."
            previous_end = end
    if not any(day for day in weekly_hours):
        return "The team must work some time in the week."
    return None


def _open_intervals(calendar: BusinessCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The day's working intervals as UTC moments (none on a holiday)."""
    if day.isoformat() in calendar.holidays:
        return ()
    hours = tuple((start, end) for start, end in sorted(calendar.weekly_hours[day.weekday()]))
    return _day_intervals(calendar.time_zone, hours, day)


@lru_cache(maxsize=4096)
def _day_intervals(
    time_zone: str, hours: tuple[tuple[int, int], ...], day: date
) -> tuple[tuple[datetime, datetime], ...]:
    """Working intervals of a day in a zone as UTC moments. Kept: a page of tickets (and a
    workflow's every wake-up) walks the same few days again and again, and this time zone
    arithmetic is most of a ticket's SLA figures' cost. A pure function of its arguments."""
    zone = ZoneInfo(time_zone)
    midnight = datetime.combine(day, time())
    return tuple(
        (
            (midnight + timedelta(minutes=start)).replace(tzinfo=zone).astimezone(UTC),
            (midnight + timedelta(minutes=end)).replace(tzinfo=zone).astimezone(UTC),
        )
        for start, end in hours
    )


def _local_day(calendar: BusinessCalendar, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(calendar.time_zone)).date()


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """The working time in [start, end) (zero if end is not after start)."""
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    day = _local_day(calendar, start) - timedelta(days=1)
    last = _local_day(calendar, end) + timedelta(days=1)
    while day <= last:
        for opens, closes in _open_intervals(calendar, day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def add_business_time(calendar: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """The moment `amount` of working time after `start` (start itself for none)."""
    if amount <= timedelta(0):
        return start
    left = amount
    day = _local_day(calendar, start) - timedelta(days=1)
    for _ in range(MAX_DAYS_AHEAD):
        for opens, closes in _open_intervals(calendar, day):
            begin = max(opens, start)
            if closes <= begin:
                continue
            if closes - begin >= left:
                return begin + left
            left -= closes - begin
        day += timedelta(days=1)
    raise ValueError("The calendar has no working time within three years of the start.")


@dataclass(frozen=True)
class ClockState:
    """Where a clock stands: when it started, the business seconds of its ended pauses, and
    since when it is paused (None: running)."""

    started_at: datetime
    paused_seconds: float = 0.0
    paused_since: datetime | None = None


def pause(state: ClockState, at: datetime) -> ClockState:
    return state if state.paused_since is not None else replace(state, paused_since=at)


def resume(calendar: BusinessCalendar, state: ClockState, at: datetime) -> ClockState:
    if state.paused_since is None:
        return state
    stood = business_time_between(calendar, state.paused_since, at)
    return ClockState(state.started_at, state.paused_seconds + stood.total_seconds(), None)


def spent(calendar: BusinessCalendar, state: ClockState, now: datetime) -> timedelta:
    """Business time the clock has run by `now` (frozen at its pause while paused)."""
    end = state.paused_since if state.paused_since is not None else now
    ran = business_time_between(calendar, state.started_at, end)
    return max(ran - timedelta(seconds=state.paused_seconds), timedelta(0))


def due_at(calendar: BusinessCalendar, state: ClockState, target: timedelta) -> datetime | None:
    """When the clock reaches `target`, if it keeps running (None while paused)."""
    if state.paused_since is not None:
        return None
    return add_business_time(
        calendar, state.started_at, target + timedelta(seconds=state.paused_seconds)
    )


def time_left(
    calendar: BusinessCalendar, state: ClockState, target: timedelta, now: datetime
) -> timedelta:
    """Business time left before `target` (negative once over it)."""
    return target - spent(calendar, state, now)
