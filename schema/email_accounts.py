"""Connected mailboxes (IMAP): add one, list them, remove one. The password goes in and
never comes out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.email_accounts import AccountStatus, EmailAccountErrorCode, MailboxPurpose, Security
from domain.email_accounts import EmailAccount as EmailAccountRecord
from resolvers import email_accounts as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

error_code_enum(EmailAccountErrorCode, "EmailAccountErrorCode", "connected mailboxes")
described_enum(
    Security,
    "MailboxSecurity",
    "How the connection to an IMAP server is secured.",
    {
        "SSL": "IMAPS, port 993 by default.",
        "STARTTLS": "Port 143, upgraded before signing in.",
        "NONE": "Plain text: private hosts only.",
    },
)
described_enum(
    AccountStatus,
    "MailboxStatus",
    "Whether a mailbox's last fetch worked.",
    {"OK": "It worked.", "FAILING": "It failed; `lastError` says why."},
)
described_enum(
    MailboxPurpose,
    "MailboxPurpose",
    "How a mailbox's mail is routed.",
    {
        "SALES": "As mail to the sales address: new senders become leads.",
        "SUPPORT": "As mail to the support address.",
    },
)


@strawberry.type(
    description="An IMAP mailbox the worker reads new mail from (every minute by default), "
    "as if it had been sent to the agency's own inbound addresses."
)
class EmailAccount(relay.Node):
    id: relay.NodeID[str] = node_id()
    purpose: MailboxPurpose = strawberry.field(
        description="SALES (unknown senders become leads) or SUPPORT."
    )
    host: str = strawberry.field(description="The IMAP server's host name.")
    port: int = strawberry.field(description="The IMAP server's port.")
    security: Security = strawberry.field(description="How the connection is secured.")
    username: str = strawberry.field(description="The mailbox's sign-in name.")
    folder: str = strawberry.field(description="The folder read, e.g. INBOX.")
    status: AccountStatus = strawberry.field(
        description="FAILING when the last fetch could not sign in or connect (see lastError); "
        "the next fetch tries again."
    )
    last_error: str = strawberry.field(
        description="Why the last fetch failed; empty when it worked."
    )
    last_fetched_at: datetime | None = strawberry.field(
        description="When mail was last fetched; null before the first fetch."
    )
    created_at: datetime = created_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, EmailAccountRecord))

    @strawberry.field(description="The User who connected it.")
    def user_id(self, root: strawberry.Parent[EmailAccountRecord]) -> relay.GlobalID:
        return relay.GlobalID("User", str(root.user_id))


@strawberry.type(description="A problem with the input; nothing was changed.")
class EmailAccountError:
    field: str | None = error_field()
    code: EmailAccountErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class EmailAccountPayload:
    email_account: EmailAccount | None = payload_record("email account")
    errors: list[EmailAccountError] = payload_errors()


@strawberry.input(
    description="The CRM signs in once to check the credentials; mail already in the folder "
    "is left alone, new mail is read from then on."
)
class AddEmailAccountInput:
    host: str = strawberry.field(description="e.g. imap.gmail.com (public hosts only).")
    username: str = strawberry.field(description="The mailbox's sign-in name.")
    password: str = strawberry.field(
        description="The password or an app password; stored encrypted, never shown again."
    )
    purpose: MailboxPurpose = strawberry.field(
        default=MailboxPurpose.SALES,
        description="How its mail is routed (as sales or support mail).",
    )
    security: Security = strawberry.field(default=Security.SSL, description="SSL when left out.")
    port: int | None = strawberry.field(
        default=None, description="993 for SSL, 143 for STARTTLS unless given."
    )
    folder: str = strawberry.field(
        default="INBOX", description="The folder to read; INBOX when left out."
    )


@strawberry.input(description="The connected mailbox to remove.")
class RemoveEmailAccountInput:
    id: relay.GlobalID = node_id()


def _payload(outcome: Outcome[EmailAccountRecord]) -> EmailAccountPayload:
    return EmailAccountPayload(
        email_account=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(EmailAccountError, outcome.errors),
    )


@strawberry.type
class EmailAccountQuery:
    @strawberry.field(description="Your connected mailboxes (an admin's: every one of the agency).")
    async def email_accounts(self, info: Info) -> list[EmailAccount]:
        return await resolve.list_email_accounts(info.context)  # type: ignore[return-value]


@strawberry.type
class EmailAccountMutation:
    @strawberry.mutation(
        description="Connect an IMAP mailbox. SIGN_IN_FAILED, UNREACHABLE or HOST_REFUSED say "
        "why the CRM could not use it; nothing is kept then."
    )
    async def add_email_account(
        self, info: Info, input: Annotated[AddEmailAccountInput, MUTATION_INPUT]
    ) -> EmailAccountPayload:
        return _payload(await resolve.add_email_account(info.context, input))

    @strawberry.mutation(description="Disconnect a mailbox; mail already taken in stays.")
    async def remove_email_account(
        self, info: Info, input: Annotated[RemoveEmailAccountInput, MUTATION_INPUT]
    ) -> EmailAccountPayload:
        return _payload(await resolve.remove_email_account(info.context, input.id))
