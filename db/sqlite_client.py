"""The SQLite backend (a Tortoise engine module): Tortoise's own client, whose transactions take
the write lock when they begin.

Why `BEGIN IMMEDIATE`
---------------------
Tortoise begins every transaction with a plain (deferred) `BEGIN`: the transaction reads
without the write lock and asks for it at its first write. If another connection (the worker
beside the API, a second process, the CLI) committed in between, SQLite cannot upgrade a
snapshot that is no longer the newest and fails at once with "database is locked": the busy
timeout never applies, because waiting could not help. Every service here reads before it
writes (scope checks, tag catalogues, row locks), so under concurrent writers this failed a
third of the requests (issue: "database is locked" on the embedded SQLite).

`BEGIN IMMEDIATE` asks for the write lock first, where waiting is safe: a second writer waits
in the busy handler (up to `LOCK_WAIT`) and then reads the newest data. Past the wait, BEGIN
fails before anything was written, as `DatabaseBusy`. Readers are not affected: in WAL mode
they never wait for the writer. Django 5.1 (`"transaction_mode": "IMMEDIATE"`) and Rails 7.1
made the same choice for the same reason. The price: a transaction that only reads takes the
write lock too. Nearly every transaction here writes; reads outside transactions are
unaffected.

The pragmas (`tortoise_config` sets them on every connection): WAL, so readers and the writer
do not block each other; `busy_timeout`, the bounded wait; `synchronous=FULL` (SQLite's
default, kept: a committed change survives a power cut, which the bench shows costs little).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import TransactionManagementError

from db.busy import DatabaseBusy, is_busy


class ImmediateTransaction(SqliteTransactionWrapper):
    """A transaction on the shared connection that holds the write lock from its start."""

    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise DatabaseBusy() from exc
            raise TransactionManagementError(exc) from exc


class CrmSqliteClient(SqliteClient):
    """Tortoise's SQLite client with immediate transactions; nested ones stay savepoints."""

    def _in_transaction(self) -> SqliteTransactionContext:
        return SqliteTransactionContext(ImmediateTransaction(self), self._lock)


def get_client_class(_db_info: dict[str, Any]) -> type[SqliteClient]:
    """Tortoise asks an engine module for its client class."""
    return CrmSqliteClient


client_class = CrmSqliteClient
