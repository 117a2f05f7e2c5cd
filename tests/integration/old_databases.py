"""For migration tests: an empty database to migrate step by step, and raw row inserts (the
models describe today's tables, not the ones of an older migration)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise

from tests.fixtures.databases import DatabaseSource


@pytest.fixture
async def empty_database_url(database_source: DatabaseSource, tmp_path: Path) -> AsyncIterator[str]:
    if database_source.postgres is None:
        yield f"sqlite://{tmp_path / 'old.sqlite3'}"
        return
    name = f"crm_old_{uuid.uuid4().hex[:16]}"
    await database_source.postgres.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_source.postgres.url(name)
    finally:
        await database_source.postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def insert_row(table: str, row: dict[str, Any]) -> None:
    client = Tortoise.get_connection("default")
    postgres = client.capabilities.dialect == "postgres"
    marks = [f"${n}" if postgres else "?" for n in range(1, len(row) + 1)]
    await client.execute_query(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(marks)})", list(row.values())
    )
