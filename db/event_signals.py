"""Telling API processes that events were committed: NOTIFY on PostgreSQL, an in-process bus
otherwise. A signal carries only the agency and the event id; listeners read the rows.

Subscriptions resume from an event id, so ids of one agency must become visible in id order:
on PostgreSQL a transaction that appends an event first takes a transaction-scoped advisory
lock for its agency, so a later id never commits before an earlier one (SQLite has one writer
at a time, which gives the same order by itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url

log = logging.getLogger("crm.events")

CHANNEL = "crm_events"
LISTENER_APPLICATION_NAME = "crm-event-listener"  # how it shows in pg_stat_activity
# The advisory-lock namespace of "event order" ("CRME"); the agency picks the lock inside it.
_EVENT_ORDER_LOCKS = 0x43524D45

EventSignal = Callable[[UUID, int], None]


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


def is_postgres_url(database_url: str) -> bool:
    engine = str(expand_db_url(database_url)["engine"])
    return engine.rsplit(".", 1)[-1] in ("asyncpg", "psycopg")


def _agency_lock_key(agency_id: UUID) -> int:
    return int.from_bytes(agency_id.bytes[:4], "big", signed=True)


async def hold_event_order(agency_id: UUID, connection: BaseDBAsyncClient) -> None:
    """Serialise the agency's event appends until this transaction ends (PostgreSQL).

    Append events after the transaction's row locks: the lock is held until commit.
    """
    if is_postgres(connection):
        await connection.execute_query(
            "SELECT pg_advisory_xact_lock($1, $2)",
            [_EVENT_ORDER_LOCKS, _agency_lock_key(agency_id)],
        )


def signal_payload(agency_id: UUID, event_id: int) -> str:
    return f"{agency_id}:{event_id}"


def parse_signal(payload: str) -> tuple[UUID, int] | None:
    agency, _, event_id = payload.partition(":")
    try:
        return UUID(agency), int(event_id)
    except ValueError:
        return None


class InProcessSignals:
    """The one in-process bus: every API hub of this process hears every local append.

    Used where there is no NOTIFY (SQLite). The signal is sent before the commit; listeners
    read through the same single SQLite connection, which waits for that commit, and poll as
    a safety net for writers on another connection (a worker in the same process).
    """

    def __init__(self) -> None:
        self._listeners: list[EventSignal] = []

    def listen(self, listener: EventSignal) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, agency_id: UUID, event_id: int) -> None:
        for listener in list(self._listeners):
            listener(agency_id, event_id)


IN_PROCESS = InProcessSignals()


async def signal_committed(agency_id: UUID, event_id: int, connection: BaseDBAsyncClient) -> None:
    """Announce an appended event to every API process, on the appending transaction.

    PostgreSQL queues a NOTIFY with the transaction and delivers it on commit only.
    """
    if is_postgres(connection):
        await connection.execute_query(
            "SELECT pg_notify($1, $2)", [CHANNEL, signal_payload(agency_id, event_id)]
        )
    else:
        IN_PROCESS.publish(agency_id, event_id)


def postgres_connect_arguments(database_url: str) -> dict[str, Any]:
    """asyncpg's arguments for a Tortoise database URL (its own query parameters left out)."""
    credentials = expand_db_url(database_url)["credentials"]
    return {
        key: credentials[key]
        for key in ("host", "port", "user", "password", "database")
        if credentials.get(key) is not None
    }


class PostgresEventListener:
    """A connection of its own that LISTENs for committed events, reconnecting when lost.

    After every (re)connect it calls `on_resync`: notifications sent while it was away are
    lost, so whoever relies on it reads the table again.
    """

    def __init__(
        self,
        database_url: str,
        on_event: EventSignal,
        on_resync: Callable[[], None],
        retry_seconds: float = 1.0,
        health_check_seconds: float = 30.0,
    ) -> None:
        self._arguments = postgres_connect_arguments(database_url)
        self._on_event = on_event
        self._on_resync = on_resync
        self._retry_seconds = retry_seconds
        self._health_check_seconds = health_check_seconds
        self.listening = asyncio.Event()

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        parsed = parse_signal(payload)
        if parsed is not None:
            self._on_event(*parsed)

    async def run(self, stop: asyncio.Event) -> None:
        delay = self._retry_seconds
        while not stop.is_set():
            try:
                await self._listen_until_lost(stop)
                delay = self._retry_seconds
            except (OSError, asyncpg.PostgresError, TimeoutError) as error:
                log.warning(
                    "event listener lost its connection, reconnecting",
                    extra={"error": str(error) or type(error).__name__, "retry_in_s": delay},
                )
            self.listening.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await stop.wait()
            delay = min(delay * 2, 30.0)

    async def _listen_until_lost(self, stop: asyncio.Event) -> None:
        connection = await asyncpg.connect(
            **self._arguments,
            timeout=10,
            server_settings={"application_name": LISTENER_APPLICATION_NAME},
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _c: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._notified)
            self.listening.set()
            self._on_resync()
            while not stop.is_set() and not lost.is_set():
                waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())}
                _, pending = await asyncio.wait(
                    waiters,
                    timeout=self._health_check_seconds,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for waiter in pending:
                    waiter.cancel()
                if not stop.is_set() and not lost.is_set():
                    # A half-open connection delivers nothing and reports nothing: ask it.
                    await connection.fetchval("SELECT 1", timeout=10)
            if lost.is_set() and not stop.is_set():
                raise ConnectionResetError("listener connection closed")
        finally:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)
