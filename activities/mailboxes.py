"""Mailbox activities: which connected mailboxes to read, and reading one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from temporalio import activity

from domain.email_accounts import MailboxPolicy
from domain.mailbox_fetch import FetchLimits, fetch_mailbox, mailboxes_to_fetch
from domain.signed_links import LinkConfig
from domain.storage import Storage


@dataclass(frozen=True)
class MailboxFetched:
    taken: int
    passed_over: int
    error: str = ""


class MailboxActivities:
    """Activities that take mail in through the document storage and the inbound door."""

    def __init__(
        self, storage: Storage, links: LinkConfig, policy: MailboxPolicy, limits: FetchLimits
    ) -> None:
        self._storage = storage
        self._links = links
        self._policy = policy
        self._limits = limits

    def activities(self) -> list[Callable[..., Any]]:
        """What a worker registers."""
        return [self.mailboxes_to_fetch, self.fetch_mailbox]

    @activity.defn(name="mailboxes_to_fetch")
    async def mailboxes_to_fetch(self) -> list[str]:
        return await mailboxes_to_fetch()

    @activity.defn(name="fetch_mailbox")
    async def fetch_mailbox(self, account_id: str) -> MailboxFetched:
        """A mailbox that fails (sign-in, network) is marked failing, not retried: the next
        scheduled fetch tries again."""
        outcome = await fetch_mailbox(
            self._storage, self._links, self._policy, self._limits, UUID(account_id)
        )
        return MailboxFetched(outcome.taken, outcome.passed_over, outcome.error)
