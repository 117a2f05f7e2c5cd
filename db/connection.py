"""Database connection setup and migrations, for SQLite files and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from db.transaction_entry import make_transaction_entry_cancel_safe

MODEL_MODULES = [
    "db.agencies",
    "db.users",
    "db.sessions",
    "db.api_keys",
    "db.contacts",
    "db.customers",
    "db.calling_tasks",
    "db.pipelines",
    "db.leads",
    "db.deals",
    "db.audit",
    "db.events",
    "db.emails",
    "db.flows",
    "db.flow_runs",
    "db.outbox",
    "db.notifications",
    "db.webhooks",
    "db.tags",
    "db.custom_fields",
    "db.notes",
    "db.documents",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for one database URL (`sqlite:///path` or `postgres://...`)."""
    return {
        "connections": {"default": database_url},
        "apps": {
            "crm": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "db.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_folder(database_url: str) -> None:
    if database_url.startswith("sqlite://") and ":memory:" not in database_url:
        Path(database_url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)


def _forget_cached_sql() -> None:
    """Tortoise caches each model's INSERT/DELETE SQL by connection *name*, process-wide, so a
    process that opens SQLite and then PostgreSQL (the test suite does) would reuse SQLite's
    placeholders. Opening a database starts from an empty cache."""
    EXECUTOR_CACHE.clear()


async def migrate(database_url: str) -> None:
    """Apply every pending migration (Tortoise's own migration engine)."""
    _ensure_sqlite_folder(database_url)
    _forget_cached_sql()
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def open_database(database_url: str) -> None:
    """Initialise Tortoise on the current context (the caller owns the TortoiseContext)."""
    _ensure_sqlite_folder(database_url)
    _forget_cached_sql()
    make_transaction_entry_cancel_safe()
    await Tortoise.init(config=tortoise_config(database_url))
    # Connect now, not in the first transaction: opening the connection inside a transaction's
    # entry is a step db.transaction_entry cannot undo if it is cancelled.
    await connections.get("default").execute_query("SELECT 1")


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[TortoiseContext]:
    """The database opened in a Tortoise context of its own, closed on exit.

    Tortoise 1.x keeps connections in a contextvar-held context. A server whose requests run
    in other tasks than its start-up (uvicorn, a Temporal worker) enters the yielded context
    around each unit of work (`with context: ...`), instead of relying on a process global.
    """
    async with TortoiseContext() as context:
        await open_database(database_url)
        yield context


async def close_database() -> None:
    await Tortoise.close_connections()
