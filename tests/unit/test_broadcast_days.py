"""Whose day it is for a yearly-on-field broadcast: month and day in the broadcast's zone, and
29 February greeted on the 28th in other years."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from domain.broadcast_runs import same_day

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("value", "day", "expected"),
    [
        (date(1990, 3, 14), date(2027, 3, 14), True),
        (date(1990, 3, 14), date(2027, 3, 15), False),
        (date(1992, 2, 29), date(2027, 2, 28), True),
        (date(1992, 2, 29), date(2028, 2, 28), False),
        (date(1992, 2, 29), date(2028, 2, 29), True),
        # Became a customer at 23:30 UTC on 31 March 2026: 1 April in London (summer time).
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), date(2027, 4, 1), True),
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), date(2027, 3, 31), False),
        (None, date(2027, 1, 1), False),
    ],
)
def test_the_day_is_read_in_the_broadcasts_time_zone(
    value: date | datetime | None, day: date, expected: bool
) -> None:
    assert same_day(value, day, LONDON) is expected
