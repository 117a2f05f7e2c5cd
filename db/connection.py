"""Database connection setup and migrations, for SQLite files and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from db.busy import LOCK_WAIT
from db.transaction_entry import make_transaction_entry_cancel_safe

MODEL_MODULES = [
    "db.agencies",
    "db.users",
    "db.sessions",
    "db.api_keys",
    "db.contacts",
    "db.customers",
    "db.duplicates",
    "db.calling_tasks",
    "db.pipelines",
    "db.leads",
    "db.deals",
    "db.deal_stage_changes",
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
    "db.card_scans",
    "db.message_templates",
    "db.messages",
    "db.message_preferences",
    "db.broadcasts",
    "db.imports",
    "db.inbound_emails",
    "db.email_accounts",
    "db.meetings",
    "db.rate_limits",
    "db.campaigns",
    "db.referral_codes",
    "db.campaign_likes",
    "db.tickets",
    "db.service_levels",
    "db.ticket_assignment",
    "db.knowledge_base",
    "db.portal",
    "db.lead_scoring",
    "db.lead_assignment",
    "db.quotas",
    "db.report_schedules",
    "db.dashboard_counts",
]


SQLITE_ENGINE = "db.sqlite_client"


def connection_config(database_url: str, lock_wait: timedelta = LOCK_WAIT) -> dict[str, Any]:
    """Tortoise's connection settings for a URL, with every write's lock wait bounded.

    SQLite: the project's engine (`db.sqlite_client`: transactions begin IMMEDIATE), WAL and a
    busy timeout. PostgreSQL: `lock_timeout`, so a write queued behind a row or the agency's
    event-order lock fails as busy instead of hanging. Options in the URL's query win.
    """
    config: dict[str, Any] = expand_db_url(database_url)
    credentials: dict[str, Any] = config["credentials"]
    wait_ms = int(lock_wait.total_seconds() * 1000)
    if config["engine"] == "tortoise.backends.sqlite":
        config["engine"] = SQLITE_ENGINE
        for pragma, value in (("busy_timeout", wait_ms), ("synchronous", "FULL")):
            credentials.setdefault(pragma, value)
    elif config["engine"] == "tortoise.backends.asyncpg" and "server_settings" not in credentials:
        credentials["server_settings"] = {"lock_timeout": f"{wait_ms}ms"}
    return config


def tortoise_config(database_url: str, lock_wait: timedelta = LOCK_WAIT) -> dict[str, Any]:
    """The Tortoise config for one database URL (`sqlite:///path` or `postgres://...`)."""
    return {
        "connections": {"default": connection_config(database_url, lock_wait)},
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


async def open_database(database_url: str, lock_wait: timedelta = LOCK_WAIT) -> None:
    """Initialise Tortoise on the current context (the caller owns the TortoiseContext)."""
    _ensure_sqlite_folder(database_url)
    _forget_cached_sql()
    make_transaction_entry_cancel_safe()
    await Tortoise.init(config=tortoise_config(database_url, lock_wait))
    # Connect now, not in the first transaction: opening the connection inside a transaction's
    # entry is a step db.transaction_entry cannot undo if it is cancelled.
    await connections.get("default").execute_query("SELECT 1")


@asynccontextmanager
async def database(
    database_url: str, lock_wait: timedelta = LOCK_WAIT
) -> AsyncIterator[TortoiseContext]:
    """The database opened in a Tortoise context of its own, closed on exit.

    Tortoise 1.x keeps connections in a contextvar-held context. A server whose requests run
    in other tasks than its start-up (uvicorn, a Temporal worker) enters the yielded context
    around each unit of work (`with context: ...`), instead of relying on a process global.
    """
    async with TortoiseContext() as context:
        await open_database(database_url, lock_wait)
        yield context


async def close_database() -> None:
    await Tortoise.close_connections()
