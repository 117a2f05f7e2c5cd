"""A database too busy to take a write in time: the one retryable failure a caller can meet.

Every write waits for the locks it needs, up to a bound (`LOCK_WAIT`; SQLite's busy timeout,
PostgreSQL's `lock_timeout`). Past it the write fails and its transaction rolls back whole, so
nothing is half-written and the same request can simply be sent again. This module names
that failure whatever driver raised it, so the API answers `BUSY` (HTTP 503, `Retry-After`)
instead of an internal error, and background loops know to try again.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import asyncpg

# How long a write waits for another connection's (or process's) write lock.
LOCK_WAIT = timedelta(seconds=10)
# What a refused caller is told to wait before it tries again.
RETRY_AFTER = timedelta(seconds=1)

_SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")
# Lock timeout (55P03), deadlock (40P01), serialization failure (40001): all leave the
# transaction rolled back and succeed when tried again.
_POSTGRES_BUSY = (
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)


class DatabaseBusy(Exception):
    """The write's transaction could not get its locks within the wait; it was rolled back."""

    def __init__(self, message: str = "The database is busy; try again shortly.") -> None:
        super().__init__(message)


def _is_driver_busy(error: BaseException) -> bool:
    if isinstance(error, (DatabaseBusy, *_POSTGRES_BUSY)):
        return True
    return isinstance(error, sqlite3.OperationalError) and str(error).startswith(
        _SQLITE_BUSY_MESSAGES
    )


def is_busy(error: BaseException) -> bool:
    """Whether `error` (or what it wraps: Tortoise re-raises driver errors, sometimes as an
    argument rather than a cause) is a lock wait that ran out."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _is_driver_busy(current):
            return True
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        if current.__cause__ is not None:
            pending.append(current.__cause__)
    return False
