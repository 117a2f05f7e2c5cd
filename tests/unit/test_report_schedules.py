"""A report schedule's calendar and periods, without I/O: next run times in the schedule's zone
(daylight saving included) and the period each relative choice gives for a run's local day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from db.report_schedules import ReportSchedule
from domain.report_schedules import RelativePeriod, next_run_times, period_of, report_filter


def schedule(**fields: Any) -> ReportSchedule:
    values: dict[str, Any] = {
        "frequency": "daily",
        "weekday": None,
        "day_of_month": None,
        "hour": 8,
        "minute": 30,
        "time_zone": "Europe/London",
        "status": "active",
        "period": "yesterday",
        "bucket": "day",
        **fields,
    }
    return ReportSchedule(**values)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (RelativePeriod.YESTERDAY, date(2026, 3, 3), date(2026, 3, 3)),
        (RelativePeriod.LAST_7_DAYS, date(2026, 2, 25), date(2026, 3, 3)),
        (RelativePeriod.LAST_30_DAYS, date(2026, 2, 2), date(2026, 3, 3)),
        (RelativePeriod.LAST_WEEK, date(2026, 2, 23), date(2026, 3, 1)),
        (RelativePeriod.LAST_MONTH, date(2026, 2, 1), date(2026, 2, 28)),
        (RelativePeriod.MONTH_TO_DATE, date(2026, 3, 1), date(2026, 3, 4)),
        (RelativePeriod.YEAR_TO_DATE, date(2026, 1, 1), date(2026, 3, 4)),
    ],
)
def test_each_period_counts_back_from_the_run_day(
    period: RelativePeriod, start: date, end: date
) -> None:
    assert period_of(period, date(2026, 3, 4)) == (start, end)  # a Wednesday


def test_last_month_and_last_week_cross_the_year() -> None:
    assert period_of(RelativePeriod.LAST_MONTH, date(2027, 1, 1)) == (
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert period_of(RelativePeriod.LAST_WEEK, date(2027, 1, 4)) == (
        date(2026, 12, 28),
        date(2027, 1, 3),
    )


def test_the_period_follows_the_run_day_in_the_schedule_zone() -> None:
    tokyo = schedule(time_zone="Asia/Tokyo")
    # 23:30 UTC on 4 March is 08:30 on 5 March in Tokyo: yesterday is the 4th there.
    found = report_filter(tokyo, datetime(2026, 3, 4, 23, 30, tzinfo=UTC))
    assert (found.start, found.end) == (date(2026, 3, 4), date(2026, 3, 4))


def test_daily_runs_keep_their_local_time_across_daylight_saving() -> None:
    runs = next_run_times(schedule(), datetime(2026, 3, 28, 9, 0, tzinfo=UTC))
    assert runs == [
        datetime(2026, 3, 29, 7, 30, tzinfo=UTC),  # BST from 29 March: 08:30 is 07:30 UTC
        datetime(2026, 3, 30, 7, 30, tzinfo=UTC),
        datetime(2026, 3, 31, 7, 30, tzinfo=UTC),
    ]


def test_weekly_and_monthly_runs_fall_on_their_day() -> None:
    monday = schedule(frequency="weekly", weekday=0, time_zone="UTC")
    runs = next_run_times(monday, datetime(2026, 3, 4, tzinfo=UTC))
    assert [r.date() for r in runs] == [date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23)]
    monthly = schedule(frequency="monthly", day_of_month=28, time_zone="UTC")
    runs = next_run_times(monthly, datetime(2026, 1, 30, tzinfo=UTC))
    assert [r.date() for r in runs] == [date(2026, 2, 28), date(2026, 3, 28), date(2026, 4, 28)]
    # The run of the day itself, once its time has passed, is the next day's.
    today = next_run_times(schedule(time_zone="UTC"), datetime(2026, 3, 4, 8, 30, tzinfo=UTC))
    assert today[0] == datetime(2026, 3, 5, 8, 30, tzinfo=UTC)


def test_a_paused_schedule_has_no_next_runs() -> None:
    assert next_run_times(schedule(status="paused"), datetime(2026, 3, 4, tzinfo=UTC)) == []
