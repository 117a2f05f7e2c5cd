"""A write meets another connection's write: it waits (bounded) and succeeds, or past the bound
it is refused as busy with nothing written (db.sqlite_client, db.busy, db.connection).
tests/fixtures/write_locks.py says what the other connection holds.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from asyncpg.exceptions import LockNotAvailableError
from tortoise.transactions import in_transaction

from db.audit import AuditEntry
from db.busy import DatabaseBusy, is_busy
from db.connection import database
from db.contacts import Contact
from db.events import Event
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.contacts import create_contact
from domain.roles import Role
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.write_locks import another_writer

SHORT_WAIT = timedelta(milliseconds=300)


async def an_admin() -> Actor:
    agency, admin, _ = await bootstrap_agency(
        "Acme", "acme", "admin@acme.example.com", "Ada Admin", "correct horse battery"
    )
    return Actor(
        agency_id=agency.id, id=f"user:{admin.id}", user_id=admin.id, roles=frozenset({Role.ADMIN})
    )


def sqlite_path(db: OpenDatabase) -> str:
    return db.url.removeprefix("sqlite://")


async def written(actor: Actor) -> dict[str, int]:
    """What the contact service writes: the row, its audit entry, its event."""
    return {
        "contacts": await Contact.filter(agency_id=actor.agency_id).count(),
        "audit": await AuditEntry.filter(agency_id=actor.agency_id, entity_type="contact").count(),
        "events": await Event.filter(agency_id=actor.agency_id, type="contact.created").count(),
    }


def ada(**fields: Any) -> dict[str, Any]:
    return {"first_name": "Ada", "emails": ["ada@example.com"], "tags": ["vip"], **fields}


async def test_a_write_waits_for_another_writer_and_then_succeeds(db: OpenDatabase) -> None:
    actor = await an_admin()
    async with another_writer(db.url, actor.agency_id):
        creating = asyncio.create_task(create_contact(actor, ada()))
        await asyncio.sleep(0.5)
        assert not creating.done(), "the write should wait for the lock, not fail or skip it"
    contact = await creating
    assert contact.tags == ["vip"]
    assert await written(actor) == {"contacts": 1, "audit": 1, "events": 1}


async def test_past_its_wait_a_write_is_refused_as_busy_and_nothing_is_written(
    db: OpenDatabase,
) -> None:
    actor = await an_admin()
    async with database(db.url, SHORT_WAIT):
        async with another_writer(db.url, actor.agency_id):
            # SQLite's BEGIN is refused; PostgreSQL's lock_timeout cancels the waiting statement.
            with pytest.raises((DatabaseBusy, LockNotAvailableError)) as refused:
                await create_contact(actor, ada())
        assert is_busy(refused.value), repr(refused.value)
        assert await written(actor) == {"contacts": 0, "audit": 0, "events": 0}
        # The same write, sent again once the other writer is done, goes through.
        await create_contact(actor, ada())
        assert await written(actor) == {"contacts": 1, "audit": 1, "events": 1}


@pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)
async def test_a_transaction_that_reads_before_writing_survives_a_commit_in_between(
    db: OpenDatabase,
) -> None:
    """The classic SQLite failure: a deferred transaction reads, another connection commits,
    and the first one's write then fails at once with "database is locked", whatever the busy
    timeout. A transaction that takes the write lock at BEGIN makes the other one wait."""

    def other_connection_inserts() -> None:
        other = sqlite3.connect(sqlite_path(db), isolation_level=None, timeout=10)
        try:
            other.execute(
                "INSERT INTO agency (id, name, slug, created_at) VALUES "
                "('00000000-0000-0000-0000-000000000002', 'B', 'b', '2026-01-01')"
            )
        finally:
            other.close()

    async with in_transaction() as connection:
        await connection.execute_query("SELECT count(*) FROM agency")
        other = asyncio.create_task(asyncio.to_thread(other_connection_inserts))
        await asyncio.sleep(0.3)  # the other connection commits now, or waits for us
        await connection.execute_query(
            "INSERT INTO agency (id, name, slug, created_at) VALUES "
            "('00000000-0000-0000-0000-000000000001', 'A', 'a', '2026-01-01')"
        )
    await other
    rows = await db.connection().execute_query_dict("SELECT slug FROM agency ORDER BY slug")
    assert [row["slug"] for row in rows] == ["a", "b"]
