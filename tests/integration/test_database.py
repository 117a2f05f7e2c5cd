"""The database fixtures and migrations against real SQLite and real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from tortoise.transactions import in_transaction

from db.events import Event
from tests.fixtures.databases import OpenDatabase

LIST_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgres": "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
}


class Rollback(Exception):
    """Raised inside a transaction to abandon it."""


def event(aggregate_id: str = "1") -> Event:
    return Event(
        agency_id=uuid.uuid4(),
        type="contact.created",
        aggregate_type="contact",
        aggregate_id=aggregate_id,
        payload={"first_name": "Ada"},
    )


async def test_migrations_create_a_table_for_every_model(db: OpenDatabase) -> None:
    apps = db.context.apps
    assert apps is not None
    model_tables = {model._meta.db_table for model in apps.get_models_iterable()}

    _, rows = await db.connection().execute_query(LIST_TABLES[db.backend])

    missing = model_tables - {row["name"] for row in rows}
    assert not missing, f"tables not created by the migrations on {db.backend}: {missing}"


async def test_each_test_starts_with_an_empty_database(db: OpenDatabase) -> None:
    assert await Event.all().count() == 0


async def test_committed_rows_are_read_back_with_their_values(db: OpenDatabase) -> None:
    created = event("42")
    await created.save()

    stored = await Event.get(id=created.id)

    assert (stored.aggregate_id, stored.payload) == ("42", {"first_name": "Ada"})
    assert stored.agency_id == created.agency_id
    assert stored.occurred_at.tzinfo is not None


async def test_a_rolled_back_transaction_leaves_nothing_behind(db: OpenDatabase) -> None:
    async def write_two_events_then_fail() -> None:
        async with in_transaction():
            await event("1").save()
            await event("2").save()
            assert await Event.all().count() == 2, "the transaction does not see its own rows"
            raise Rollback

    with pytest.raises(Rollback):
        await write_two_events_then_fail()

    assert await Event.all().count() == 0
