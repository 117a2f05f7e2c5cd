"""Fixed-window rate limits (domain/rate_limits.py): exact under concurrency, honest Retry-After,
the same answers from the database store and the in-process store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from db.rate_limits import RateCounter
from domain.rate_limits import (
    SWEEP_EVERY,
    DatabaseCounters,
    MemoryCounters,
    RateCounters,
    RateLimit,
    take,
)
from tests.fixtures.databases import OpenDatabase

PER_MINUTE = RateLimit("test", limit=20, window=timedelta(minutes=1))
# 30 seconds into a window, so the window ends 30 seconds later.
HALF_WAY = datetime(2026, 12, 7, 12, 0, 30, tzinfo=UTC)


@pytest.fixture(params=["database", "memory"])
def counters(request: pytest.FixtureRequest, db: OpenDatabase) -> RateCounters:
    return DatabaseCounters() if request.param == "database" else MemoryCounters()


async def test_concurrent_takes_let_exactly_the_limit_through(counters: RateCounters) -> None:
    decisions = await asyncio.gather(
        *(take(counters, PER_MINUTE, "user:1", now=HALF_WAY) for _ in range(50))
    )
    assert sum(d.allowed for d in decisions) == PER_MINUTE.limit
    assert sorted(d.remaining for d in decisions)[-1] == PER_MINUTE.limit - 1


async def test_a_refused_caller_is_told_when_the_window_ends(counters: RateCounters) -> None:
    for _ in range(PER_MINUTE.limit):
        assert (await take(counters, PER_MINUTE, "user:1", now=HALF_WAY)).allowed
    refused = await take(counters, PER_MINUTE, "user:1", now=HALF_WAY)
    assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 30)
    next_window = HALF_WAY + timedelta(seconds=refused.retry_after)
    assert (await take(counters, PER_MINUTE, "user:1", now=next_window)).allowed


async def test_subjects_and_limits_count_apart(counters: RateCounters) -> None:
    costly = await take(counters, PER_MINUTE, "user:1", units=PER_MINUTE.limit, now=HALF_WAY)
    assert (costly.allowed, costly.remaining) == (True, 0)
    assert not (await take(counters, PER_MINUTE, "user:1", now=HALF_WAY)).allowed
    assert (await take(counters, PER_MINUTE, "user:2", now=HALF_WAY)).allowed
    other = RateLimit("other", limit=1, window=timedelta(minutes=1))
    assert (await take(counters, other, "user:1", now=HALF_WAY)).allowed


async def test_expired_windows_are_swept_from_the_database(db: OpenDatabase) -> None:
    counters = DatabaseCounters()
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await take(counters, PER_MINUTE, "user:old", now=long_ago)
    for _ in range(SWEEP_EVERY - 1):
        await take(counters, PER_MINUTE, "user:1", now=datetime.now(UTC))
    assert await RateCounter.filter(key__startswith="test:user:old").count() == 0
    assert await RateCounter.filter(key__startswith="test:user:1").exists()
