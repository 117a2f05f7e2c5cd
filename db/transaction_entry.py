"""Tortoise's transaction entry, made safe to cancel.

Entering `in_transaction()` takes the connection (SQLite: the lock on its one connection;
PostgreSQL: a connection from the pool), then sends BEGIN. A task cancelled during that BEGIN
(a Temporal worker stopping mid-activity, a request given up) leaves `__aenter__` with the
exception, so `__aexit__` never runs and the connection is never given back: on SQLite every
later query of the process waits forever. The pooled (PostgreSQL) entry has the same shape; a
leak there has not been seen. tortoise-orm 1.1.9 has no fix (tortoise/tortoise-orm#1757 shows
the symptom); this wraps the entry of both so a failed entry leaves like a failed transaction:
rolled back, connection returned, contextvar reset. (On SQLite the entry also opens the connection
if it is not open yet, a step that cannot be told apart from outside: `open_database` opens it
first.) Remove this once Tortoise releases on its own
(tests/integration/test_transaction_cancellation.py says when).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise.backends.base.client import TransactionContext, TransactionContextPooled
from tortoise.backends.sqlite.client import SqliteTransactionContext

Enter = Callable[[Any], Awaitable[Any]]
_SAFE = "_crm_cancel_safe"


def _released_on_failure(enter: Enter) -> Enter:
    async def safe_enter(self: TransactionContext) -> Any:
        try:
            return await enter(self)
        except BaseException as exc:
            # The contextvar token is set once the connection is held, just before BEGIN.
            if getattr(self, "token", None) is not None:
                with contextlib.suppress(Exception):  # the rollback may fail; the release won't
                    await self.__aexit__(type(exc), exc, exc.__traceback__)
            raise

    setattr(safe_enter, _SAFE, True)
    return safe_enter


def make_transaction_entry_cancel_safe() -> None:
    """Wrap the entry of Tortoise's SQLite and pooled (PostgreSQL) transactions, once."""
    for context_type in (SqliteTransactionContext, TransactionContextPooled):
        enter = context_type.__aenter__
        if not getattr(enter, _SAFE, False):
            context_type.__aenter__ = _released_on_failure(enter)  # type: ignore[method-assign, assignment]
