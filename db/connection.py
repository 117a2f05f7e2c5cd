"""Database connection setup and migrations, for SQLite files and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as run_migrations

MODEL_MODULES = ["db.contacts", "db.audit", "db.events", "db.emails"]


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


async def migrate(database_url: str) -> None:
    """Apply every pending migration (Tortoise's own migration engine)."""
    _ensure_sqlite_folder(database_url)
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()


async def open_database(database_url: str) -> None:
    _ensure_sqlite_folder(database_url)
    await Tortoise.init(config=tortoise_config(database_url))


async def close_database() -> None:
    await Tortoise.close_connections()
