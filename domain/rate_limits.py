"""Fixed-window rate limits: how much a subject (a user, an API key, an address) may spend.

A window counter is one upsert per request, exact under concurrency because the database
adds, not the caller. Fixed windows were chosen over sliding ones so that `Retry-After` is
exact: a refused caller may send again at the window's end, and not before. The price is
that a caller can spend up to twice the limit across a window boundary, which the limits
allow for.

Two stores share the one interface. `DatabaseCounters` keeps counters in `rate_counter`, so
API processes on one PostgreSQL share them; `MemoryCounters` keeps them in the process, for
a single process where a database write per request would only cost time (SQLite). Refused
requests count too: hammering does not open the window sooner, and nothing about the
counter leaks beyond `Retry-After`.

The API's limits per caller (`CallerLimits`: requests and query cost a minute, per user, per
API key, per address for anonymous requests) use the database store on PostgreSQL, where
several API processes serve one database and must count together. On SQLite they use the
process's store: SQLite serves one API process (its writers queue on one file lock), and a
counter write on every request, reads included, would queue behind real writes and could be
refused as BUSY with them, for a count only this one process needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tortoise import connections

from db.event_signals import is_postgres
from db.rate_limits import RateCounter

# How many takes a store serves between sweeps of its expired windows.
SWEEP_EVERY = 512
# Encodes the window's end the way the ORM stores datetimes on each database.
_EXPIRES_AT = RateCounter._meta.fields_map["expires_at"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `limit` units per `window`, counted under the name `name`."""

    name: str
    limit: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    # Whole seconds until the window ends: when a refused caller may try again.
    retry_after: int


class RateCounters(Protocol):
    async def add(self, key: str, units: int, expires_at: datetime) -> int:
        """Add units to a window's counter and return its new total."""
        ...


def _window(limit: RateLimit, now: datetime) -> tuple[int, datetime]:
    seconds = limit.window.total_seconds()
    index = math.floor(now.timestamp() / seconds)
    return index, datetime.fromtimestamp((index + 1) * seconds, UTC)


async def take(
    counters: RateCounters,
    limit: RateLimit,
    subject: str,
    units: int = 1,
    now: datetime | None = None,
) -> RateDecision:
    """Spend units of a subject's limit in the current window; say whether they fit."""
    now = now or datetime.now(UTC)
    index, ends_at = _window(limit, now)
    key = f"{limit.name}:{subject}:{index}"[:255]
    spent = await counters.add(key, units, ends_at)
    retry_after = max(1, math.ceil((ends_at - now).total_seconds()))
    return RateDecision(
        allowed=spent <= limit.limit,
        limit=limit.limit,
        remaining=max(0, limit.limit - spent),
        retry_after=retry_after,
    )


@dataclass(frozen=True, slots=True)
class CallerLimits:
    """How much one caller may spend on the API a window: requests, and query cost (the
    objects its operations may return, `schema/cost.py`). A limit of None is no limit."""

    counters: RateCounters
    requests: RateLimit | None
    cost: RateLimit | None


def api_counters(postgres: bool) -> RateCounters:
    """The store for the API's limits: shared through PostgreSQL, else this process's own
    (see the module's docstring for why)."""
    return DatabaseCounters() if postgres else MemoryCounters()


class MemoryCounters:
    """Counters of this process alone."""

    def __init__(self) -> None:
        self._spent: dict[str, tuple[int, datetime]] = {}
        self._takes = 0

    async def add(self, key: str, units: int, expires_at: datetime) -> int:
        self._takes += 1
        if self._takes % SWEEP_EVERY == 0:
            now = datetime.now(UTC)
            self._spent = {k: v for k, v in self._spent.items() if v[1] > now}
        spent = self._spent.get(key, (0, expires_at))[0] + units
        self._spent[key] = (spent, expires_at)
        return spent


class DatabaseCounters:
    """Counters in the database, shared by every process that uses it."""

    def __init__(self, connection_name: str = "default") -> None:
        self._connection_name = connection_name
        self._takes = 0

    async def add(self, key: str, units: int, expires_at: datetime) -> int:
        connection = connections.get(self._connection_name)
        self._takes += 1
        if self._takes % SWEEP_EVERY == 0:
            await RateCounter.filter(expires_at__lt=datetime.now(UTC)).using_db(connection).delete()
        marks = ("$1", "$2", "$3") if is_postgres(connection) else ("?", "?", "?")
        rows = await connection.execute_query_dict(
            f"INSERT INTO rate_counter (key, spent, expires_at) VALUES ({', '.join(marks)}) "
            "ON CONFLICT (key) DO UPDATE SET spent = rate_counter.spent + excluded.spent "
            "RETURNING spent",
            [key, units, _EXPIRES_AT.to_db_value(expires_at, RateCounter)],
        )
        return int(rows[0]["spent"])
