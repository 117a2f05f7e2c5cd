"""A transaction cancelled while it starts gives its connection back (db.transaction_entry).

Without the fix, on SQLite the first cancellation that lands on the BEGIN makes every later
query of the process wait forever. (On PostgreSQL the same loop has never leaked a pooled
connection; the test runs there too, to keep it so.)
"""

from __future__ import annotations

import asyncio

from tortoise import connections
from tortoise.transactions import in_transaction

from tests.fixtures.databases import OpenDatabase

ATTEMPTS = 60  # cancellations, each landing a few loop turns after the transaction starts
ANSWER_LIMIT = 5.0  # seconds a query may take afterwards


async def transaction() -> None:
    async with in_transaction() as connection:
        await connection.execute_query("SELECT 1")


async def test_transactions_cancelled_while_they_start_leave_the_database_usable(
    db: OpenDatabase,
) -> None:
    for attempt in range(ATTEMPTS):
        task = asyncio.create_task(transaction())
        for _ in range(attempt % 12):  # land the cancellation on a different await each time
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async with asyncio.timeout(ANSWER_LIMIT):
        rows = await connections.get("default").execute_query_dict("SELECT 1 AS one")
        await transaction()
    assert rows == [{"one": 1}]
