"""Connected mailbox resolvers: thin calls into `domain.email_accounts`."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain import email_accounts
from domain.email_accounts import EmailAccount, EmailAccountErrorCode, MailboxPolicy
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid


def _policy(context: RequestContext) -> MailboxPolicy:
    return context.mailbox_policy or MailboxPolicy(context.auth.secret_key)


async def email_account(context: RequestContext, global_id: relay.GlobalID) -> EmailAccount | None:
    actor = actor_of(context)
    return await found_or_none(
        lambda: email_accounts.get_email_account(
            actor, node_uuid(global_id, "EmailAccount", EmailAccountErrorCode)
        )
    )


async def list_email_accounts(context: RequestContext) -> list[EmailAccount]:
    return await answer(email_accounts.list_email_accounts(actor_of(context)))


async def add_email_account(context: RequestContext, data: Any) -> Outcome[EmailAccount]:
    actor = actor_of(context)
    fields = given(data)
    return await attempt(
        EmailAccountErrorCode,
        lambda: email_accounts.add_email_account(actor, _policy(context), fields),
    )


async def remove_email_account(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[EmailAccount]:
    actor = actor_of(context)

    async def removed() -> EmailAccount:
        account_id = node_uuid(global_id, "EmailAccount", EmailAccountErrorCode)
        return await email_accounts.remove_email_account(actor, account_id)

    return await attempt(EmailAccountErrorCode, removed)
