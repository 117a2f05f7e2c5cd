"""Connected mailboxes against a real IMAP server (dovecot): new mail is fetched by the
worker's workflow into the same processing as SMTP, each message once; mail that was there
before the mailbox was connected stays out; a mailbox that stops working says why."""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from db.contacts import Contact
from db.email_accounts import EmailAccount
from db.inbound_emails import InboundEmail
from domain.actors import Actor
from domain.email_accounts import (
    AccountStatus,
    EmailAccountErrorCode,
    MailboxPolicy,
    add_email_account,
    open_password,
    seal_password,
)
from domain.errors import DomainError, DomainErrors, errors_of
from domain.inbound_emails import InboundStatus
from domain.roles import Role
from tests.fixtures.flows import Flows, eventually
from tests.fixtures.imap import ImapServer, Mailbox
from workflows.mailbox_fetch import FetchMailboxes


def a_message(sender: str, subject: str, message_id: str | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "sales@widgets.example"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="mail.test")
    message.set_content(f"{subject}\n\nBest regards,\nSomeone\n")
    return message.as_bytes()


def owner(flows: Flows) -> Actor:
    return Actor(
        agency_id=flows.agency_id,
        id=f"user:{flows.owner_id}",
        user_id=flows.owner_id,
        roles=frozenset({Role.SALES_PERSON}),
    )


async def connect(flows: Flows, mailbox: Mailbox, **fields: object) -> EmailAccount:
    data = {
        "host": mailbox.server.host,
        "port": mailbox.server.port,
        "security": "none",
        "username": mailbox.username,
        "password": mailbox.password,
        **fields,
    }
    return await add_email_account(owner(flows), flows.mailbox_policy, data)


async def fetch(flows: Flows) -> int:
    """One round of the schedule's workflow (in real time: a stuck fetch fails the test)."""
    async with asyncio.timeout(60), flows.worker():
        taken: int = await flows.client.execute_workflow(
            FetchMailboxes.run, id=f"fetch-{uuid.uuid4()}", task_queue=flows.task_queue
        )
    return taken


async def processed(flows: Flows, count: int) -> list[InboundEmail]:
    async def done() -> list[InboundEmail] | None:
        await flows.relay_all()
        rows = await InboundEmail.filter(
            agency_id=flows.agency_id, status=InboundStatus.PROCESSED
        ).order_by("received_at")
        return rows if len(rows) >= count else None

    async with flows.worker():
        return await eventually(done)


async def test_new_mail_is_taken_in_once_and_old_mail_stays_out(
    flows: Flows, imap_server: ImapServer
) -> None:
    mailbox = imap_server.new_mailbox()
    mailbox.append(a_message("old@archive.example", "From last year"))
    account = await connect(flows, mailbox)
    known = await flows.create_contact(emails=["ada@example.com"])
    first = a_message("new@widgets.example", "Forty desks")
    mailbox.append(first)
    mailbox.append(a_message("ada@example.com", "About the offer"))

    assert await fetch(flows) == 2
    new_lead, from_known = await processed(flows, 2)

    assert (new_lead.outcome, new_lead.mailbox) == ("new_lead", "sales")
    assert new_lead.email_account_id == account.id
    assert (from_known.outcome, from_known.contact_id) == ("message", known.id)
    assert not await Contact.exists(agency_id=flows.agency_id, search_text__contains="old@")
    assert await fetch(flows) == 0

    mailbox.append(first)  # the same message again (moved back, copied): not a second one
    mailbox.append(a_message("ada@example.com", "One more thing"))
    assert await fetch(flows) == 1
    await processed(flows, 3)
    account = await EmailAccount.get(id=account.id)
    assert (account.status, account.last_error, account.last_uid) == ("ok", "", 5)


async def test_the_password_is_sealed_with_the_application_secret(
    flows: Flows, imap_server: ImapServer
) -> None:
    mailbox = imap_server.new_mailbox()
    account = await connect(flows, mailbox)

    row = await EmailAccount.get(id=account.id)
    assert mailbox.password not in row.password_encrypted
    assert open_password(flows.mailbox_policy, row.password_encrypted) == mailbox.password
    with pytest.raises(ValueError, match="another application secret"):
        open_password(
            MailboxPolicy(type(flows.links.secret_key)("another secret")), row.password_encrypted
        )


async def test_a_mailbox_that_stops_letting_us_in_is_marked_failing_and_recovers(
    flows: Flows, imap_server: ImapServer
) -> None:
    mailbox = imap_server.new_mailbox()
    account = await connect(flows, mailbox)
    # The password was changed on the server (dovecot caches its users file for a moment,
    # so the test changes ours instead).
    sealed = account.password_encrypted
    wrong = seal_password(flows.mailbox_policy, "changed-on-the-server")
    await EmailAccount.filter(id=account.id).update(password_encrypted=wrong)

    assert await fetch(flows) == 0
    failing = await EmailAccount.get(id=account.id)
    assert failing.status == AccountStatus.FAILING
    assert "authentication failed" in failing.last_error.lower()

    await EmailAccount.filter(id=account.id).update(password_encrypted=sealed)
    mailbox.append(a_message("back@widgets.example", "Hello again"))
    assert await fetch(flows) == 1
    assert (await EmailAccount.get(id=account.id)).status == AccountStatus.OK


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"password": "wrong"}, EmailAccountErrorCode.SIGN_IN_FAILED),
        ({"folder": "No Such Folder"}, EmailAccountErrorCode.SIGN_IN_FAILED),
        ({"host": "bad_host"}, EmailAccountErrorCode.INVALID),
        ({"port": 70_000}, EmailAccountErrorCode.OUT_OF_RANGE),
        ({"purpose": "reply"}, EmailAccountErrorCode.INVALID),
        ({"folder": 'bad "folder"'}, EmailAccountErrorCode.INVALID),
    ],
)
async def test_a_mailbox_that_cannot_be_used_is_refused_with_the_reason(
    flows: Flows, imap_server: ImapServer, fields: dict[str, object], code: EmailAccountErrorCode
) -> None:
    with pytest.raises((DomainError, DomainErrors)) as refused:
        await connect(flows, imap_server.new_mailbox(), **fields)

    assert isinstance(refused.value, DomainError | DomainErrors)
    assert [error.code for error in errors_of(refused.value)] == [code]
    assert await EmailAccount.filter(agency_id=flows.agency_id).count() == 0


async def test_private_hosts_and_plain_text_are_refused_unless_the_operator_allows_them(
    flows: Flows, imap_server: ImapServer
) -> None:
    strict = MailboxPolicy(flows.links.secret_key)
    mailbox = imap_server.new_mailbox()
    data = {
        "host": mailbox.server.host,
        "port": mailbox.server.port,
        "username": mailbox.username,
        "password": mailbox.password,
    }

    with pytest.raises(DomainError) as private:
        await add_email_account(owner(flows), strict, {**data, "security": "ssl"})
    assert private.value.code == EmailAccountErrorCode.HOST_REFUSED
    with pytest.raises(DomainError) as plain:
        await add_email_account(owner(flows), strict, {**data, "security": "none"})
    assert plain.value.code == EmailAccountErrorCode.INVALID
