"""Business time arithmetic: working hours, a weekend and a holiday, and SLA clocks paused
and resumed, as the workflow and the API both compute them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.business_time import (
    BusinessCalendar,
    ClockState,
    add_business_time,
    business_time_between,
    check_weekly_hours,
    due_at,
    pause,
    resume,
    spent,
    time_left,
)

LONDON = ZoneInfo("Europe/London")
# Nine to five on weekdays; Christmas Day 2026 is a Friday.
CALENDAR = BusinessCalendar(time_zone="Europe/London", holidays=["2026-12-25"])
HOUR = timedelta(hours=1)


def london(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        (london(22, 10), 3 * HOUR, london(22, 13)),  # Tuesday, within the day
        (london(22, 15), 3 * HOUR, london(23, 10)),  # over the night
        (london(22, 7), HOUR, london(22, 10)),  # before opening
        (london(26, 12), timedelta(minutes=30), london(28, 9, 30)),  # a Saturday
        (london(24, 16), 2 * HOUR, london(28, 10)),  # Thursday, then the holiday and weekend
        (london(24, 16), timedelta(0), london(24, 16)),
    ],
)
def test_adding_business_time_skips_nights_weekends_and_holidays(
    start: datetime, amount: timedelta, expected: datetime
) -> None:
    assert add_business_time(CALENDAR, start, amount) == expected


def test_business_time_between_counts_only_working_hours() -> None:
    assert business_time_between(CALENDAR, london(24, 16), london(28, 10)) == 2 * HOUR
    assert business_time_between(CALENDAR, london(21, 0), london(28, 0)) == 4 * 8 * HOUR
    assert business_time_between(CALENDAR, london(28, 10), london(24, 16)) == timedelta(0)


def test_a_time_zone_ahead_of_utc_opens_earlier_in_utc() -> None:
    tokyo = BusinessCalendar(time_zone="Asia/Tokyo")
    start = datetime(2026, 12, 22, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert add_business_time(tokyo, start, HOUR) == datetime(2026, 12, 22, 1, 0, tzinfo=UTC)


def test_a_paused_clock_stands_still_and_resumes_where_it_stopped() -> None:
    clock = ClockState(started_at=london(21, 9))  # Monday
    assert due_at(CALENDAR, clock, 4 * HOUR) == london(21, 13)

    paused = pause(clock, london(21, 11))
    assert due_at(CALENDAR, paused, 4 * HOUR) is None
    assert spent(CALENDAR, paused, london(22, 16)) == 2 * HOUR
    assert time_left(CALENDAR, paused, 4 * HOUR, london(22, 16)) == 2 * HOUR

    resumed = resume(CALENDAR, paused, london(22, 10))  # six hours Monday, one Tuesday
    assert resumed.paused_seconds == (7 * HOUR).total_seconds()
    assert spent(CALENDAR, resumed, london(22, 11)) == 3 * HOUR
    assert due_at(CALENDAR, resumed, 4 * HOUR) == london(22, 12)
    assert time_left(CALENDAR, resumed, 4 * HOUR, london(22, 14)) == -2 * HOUR


def test_a_pause_over_the_holiday_costs_no_business_time() -> None:
    clock = pause(ClockState(started_at=london(24, 9)), london(24, 17))
    resumed = resume(CALENDAR, clock, london(28, 9))
    assert resumed.paused_seconds == 0
    assert due_at(CALENDAR, resumed, 10 * HOUR) == london(28, 11)


@pytest.mark.parametrize(
    "hours",
    [
        [[[540, 1020]]] * 5,  # six days missing
        [[[600, 540]]] + [[]] * 6,  # ends before it starts
        [[[540, 720], [700, 800]]] + [[]] * 6,  # overlapping
        [[]] * 7,  # never open
    ],
)
def test_weekly_hours_that_make_no_week_are_refused(hours: list[list[list[int]]]) -> None:
    assert check_weekly_hours(hours) is not None


def test_nine_to_five_on_weekdays_is_the_default_week() -> None:
    assert check_weekly_hours(BusinessCalendar().weekly_hours) is None
