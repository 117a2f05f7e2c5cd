"""Wiring an API process's subscriptions to committed events: LISTEN on PostgreSQL, the
in-process bus on SQLite (one process only: SQLite has no way to tell another process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from db.event_signals import IN_PROCESS, PostgresEventListener, is_postgres_url
from domain.live_events import LiveEvents

log = logging.getLogger("crm.events")

# Start serving even when PostgreSQL is not reachable yet: the listener keeps trying, and the
# feeds poll the event table meanwhile.
LISTEN_WAIT_SECONDS = 5.0


@contextlib.asynccontextmanager
async def event_fan_out(database_url: str, live: LiveEvents) -> AsyncIterator[None]:
    """Feed `live` with commit signals while the context is open; close its feeds after."""
    if not is_postgres_url(database_url):
        stop_listening = IN_PROCESS.listen(live.wake)
        try:
            yield
        finally:
            stop_listening()
            await live.close()
        return
    listener = PostgresEventListener(database_url, live.wake, live.wake_all)
    stop = asyncio.Event()
    listening = asyncio.create_task(listener.run(stop), name="event-listener")
    try:
        async with asyncio.timeout(LISTEN_WAIT_SECONDS):
            await listener.listening.wait()
    except TimeoutError:
        log.warning("not listening for events yet; subscriptions poll until it is")
    try:
        yield
    finally:
        stop.set()
        await listening
        await live.close()
