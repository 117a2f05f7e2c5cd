"""Which failures are a busy database (db.busy), and the lock wait every connection gets
(db.connection)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from asyncpg.exceptions import (
    DeadlockDetectedError,
    LockNotAvailableError,
    SerializationError,
    UniqueViolationError,
)
from tortoise.exceptions import IntegrityError, OperationalError, TransactionManagementError

from db.busy import DatabaseBusy, is_busy
from db.connection import SQLITE_ENGINE, connection_config


def wrapped(inner: BaseException, outer: type[Exception]) -> Exception:
    """Raised the way Tortoise re-raises a driver error: as `outer(inner)` from `inner`."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer(exc) from exc
    except Exception as raised:
        return raised


@pytest.mark.parametrize(
    "error",
    [
        DatabaseBusy(),
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("database table is locked: contact"),
        OperationalError(sqlite3.OperationalError("database is locked")),
        wrapped(sqlite3.OperationalError("database is locked"), TransactionManagementError),
        LockNotAvailableError("canceling statement due to lock timeout"),
        DeadlockDetectedError("deadlock detected"),
        SerializationError("could not serialize access"),
        wrapped(LockNotAvailableError("lock timeout"), OperationalError),
    ],
)
def test_a_lock_wait_that_ran_out_is_busy(error: BaseException) -> None:
    assert is_busy(error)


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("no such table: contact"),
        OperationalError(sqlite3.OperationalError("near 'SELEC': syntax error")),
        IntegrityError(sqlite3.IntegrityError("UNIQUE constraint failed")),
        UniqueViolationError("duplicate key"),
        ValueError("database is locked"),  # words alone are not the driver saying so
        RuntimeError("boom"),
    ],
)
def test_other_failures_are_not_busy(error: BaseException) -> None:
    assert not is_busy(error)


def test_sqlite_connections_begin_immediate_in_wal_with_a_busy_timeout() -> None:
    config = connection_config("sqlite:///data/crm.sqlite3", timedelta(seconds=7))
    assert config["engine"] == SQLITE_ENGINE
    credentials = config["credentials"]
    assert credentials["file_path"] == "/data/crm.sqlite3"
    assert credentials["journal_mode"] == "WAL"
    assert credentials["busy_timeout"] == 7000
    assert credentials["synchronous"] == "FULL"


def test_a_pragma_in_the_sqlite_url_wins() -> None:
    credentials = connection_config("sqlite:///crm.sqlite3?busy_timeout=50")["credentials"]
    assert credentials["busy_timeout"] == "50"


def test_postgres_connections_bound_their_lock_waits() -> None:
    config = connection_config("postgres://crm@db.internal/crm", timedelta(milliseconds=2500))
    assert config["engine"] == "tortoise.backends.asyncpg"
    assert config["credentials"]["server_settings"] == {"lock_timeout": "2500ms"}
