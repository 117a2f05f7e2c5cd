"""`FetchMailboxes`: the schedule's run that reads every connected mailbox once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.mailboxes import MailboxActivities, MailboxFetched

LIST_TIMEOUT = timedelta(seconds=30)
# One mailbox's fetch: at most `FetchLimits.max_messages` messages, each stored.
FETCH_TIMEOUT = timedelta(minutes=10)
FETCH_RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=5))
# Mailboxes read at the same time (each its own IMAP connection).
CONCURRENT_FETCHES = 5


@workflow.defn
class FetchMailboxes:
    """Each mailbox in turn (a few at a time); the result counts the messages taken in."""

    @workflow.run
    async def run(self) -> int:
        accounts = await workflow.execute_activity_method(
            MailboxActivities.mailboxes_to_fetch,
            start_to_close_timeout=LIST_TIMEOUT,
        )
        taken = 0
        for start in range(0, len(accounts), CONCURRENT_FETCHES):
            fetched: list[MailboxFetched] = await asyncio.gather(
                *(
                    workflow.execute_activity_method(
                        MailboxActivities.fetch_mailbox,
                        account_id,
                        start_to_close_timeout=FETCH_TIMEOUT,
                        retry_policy=FETCH_RETRY,
                    )
                    for account_id in accounts[start : start + CONCURRENT_FETCHES]
                )
            )
            taken += sum(outcome.taken for outcome in fetched)
        return taken
