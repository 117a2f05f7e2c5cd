"""Connected mailboxes: a person (or an admin, for the agency) adds an IMAP account whose new
mail the worker takes in, as if it had been sent to the CRM's own addresses.

The password is encrypted at rest (Fernet, with a key derived from the application secret
for this purpose alone) and never read back through the API. Where the worker may connect is
checked like a webhook's target: public addresses only, unless the operator allows private
ones (`CRM_MAILBOX_ALLOW_PRIVATE_HOSTS`, for development and tests), and a plain-text
connection (`security: none`) only to those.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import imaplib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, ValidationError
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.email_accounts import EmailAccount as EmailAccount
from domain.actors import Actor
from domain.errors import DomainError, input_errors
from domain.field_types import input_codes
from domain.imap_sessions import MailboxLogin, baseline
from domain.inbound_addresses import Mailbox
from domain.policies import require, rows
from domain.record_changes import record_created, record_deleted
from domain.roles import Access, Resource
from domain.webhook_targets import IpAddress, TargetRefused, host_addresses, refusal

AGGREGATE = "email_account"
PURPOSE = b"crm mailbox passwords v1"
MAX_ACCOUNTS = 50
_HOST = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*$"
)
_FOLDER = re.compile(r"^[^\x00-\x1f\x7f\"\\]{1,200}$")


class EmailAccountErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    DUPLICATE = "DUPLICATE"
    HOST_REFUSED = "HOST_REFUSED"
    TOO_MANY = "TOO_MANY"
    SIGN_IN_FAILED = "SIGN_IN_FAILED"
    UNREACHABLE = "UNREACHABLE"


_CODES = input_codes(EmailAccountErrorCode)


class Security(StrEnum):
    SSL = "ssl"  # IMAPS, port 993
    STARTTLS = "starttls"  # port 143, upgraded before signing in
    NONE = "none"  # plain text: private hosts only


class MailboxPurpose(StrEnum):
    """How its mail is routed, as if sent to that inbound address."""

    SALES = Mailbox.SALES.value
    SUPPORT = Mailbox.SUPPORT.value


class AccountStatus(StrEnum):
    OK = "ok"
    FAILING = "failing"


DEFAULT_PORTS = {Security.SSL: 993, Security.STARTTLS: 143, Security.NONE: 143}


@dataclass(frozen=True, slots=True)
class MailboxPolicy:
    """How passwords are sealed and where the worker may connect."""

    secret_key: SecretStr
    allow_private_hosts: bool = False


class NewEmailAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: MailboxPurpose = MailboxPurpose.SALES
    host: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=253)]
    port: Annotated[int, Field(ge=1, le=65_535)] | None = None
    security: Security = Security.SSL
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    folder: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = "INBOX"


def _fernet(policy: MailboxPolicy) -> Fernet:
    key = hmac.new(policy.secret_key.get_secret_value().encode(), PURPOSE, "sha256").digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal_password(policy: MailboxPolicy, password: str) -> str:
    return _fernet(policy).encrypt(password.encode()).decode()


def open_password(policy: MailboxPolicy, sealed: str) -> str:
    """The password; ValueError if it was sealed with another secret (the secret changed)."""
    try:
        return _fernet(policy).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the password was sealed with another application secret") from exc


async def checked_address(policy: MailboxPolicy, host: str, port: int) -> IpAddress:
    """The address to connect to for the host, if the worker may (`TargetRefused` if not)."""
    addresses = await host_addresses(host, port)
    if not addresses:
        raise TargetRefused(f"The host {host} does not resolve.")
    if not policy.allow_private_hosts:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                raise TargetRefused(f"The host {host} resolves to a {reason} address.")
    return addresses[0]


def login_of(account: EmailAccount, password: str) -> MailboxLogin:
    return MailboxLogin(
        account.host, account.port, account.security, account.username, password, account.folder
    )


def snapshot(account: EmailAccount) -> dict[str, Any]:
    """What audit rows and events show: never the password."""
    return {
        "purpose": account.purpose,
        "host": account.host,
        "port": account.port,
        "security": account.security,
        "username": account.username,
        "folder": account.folder,
        "user_id": str(account.user_id),
    }


def _parse(data: dict[str, Any]) -> NewEmailAccount:
    try:
        account = NewEmailAccount.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, _CODES, EmailAccountErrorCode.INVALID) from exc
    if not _HOST.match(account.host):
        raise DomainError(EmailAccountErrorCode.INVALID, "Not a host name.", "host")
    if not _FOLDER.match(account.folder):
        raise DomainError(EmailAccountErrorCode.INVALID, "Not a folder name.", "folder")
    return account


async def add_email_account(
    actor: Actor, policy: MailboxPolicy, data: dict[str, Any]
) -> EmailAccount:
    """Connect a mailbox for the actor (a person), once the server took its credentials.

    Mail already in the folder is left alone: the account starts after the folder's last
    UID now, so connecting a busy mailbox does not turn years of mail into leads.
    """
    require(actor, Resource.EMAIL_ACCOUNTS, Access.WRITE)
    if actor.user_id is None:
        raise DomainError(EmailAccountErrorCode.FORBIDDEN, "Mailboxes belong to people.")
    account = _parse(data)
    if account.security is Security.NONE and not policy.allow_private_hosts:
        raise DomainError(
            EmailAccountErrorCode.INVALID,
            "Passwords are not sent in plain text: use ssl or starttls.",
            "security",
        )
    port = account.port or DEFAULT_PORTS[account.security]
    try:
        address = await checked_address(policy, account.host, port)
    except TargetRefused as refused:
        raise DomainError(EmailAccountErrorCode.HOST_REFUSED, refused.message, "host") from refused
    login = MailboxLogin(
        account.host, port, account.security, account.username, account.password, account.folder
    )
    try:
        validity, last_uid = await asyncio.to_thread(baseline, login, address)
    except imaplib.IMAP4.error as refused:
        raise DomainError(
            EmailAccountErrorCode.SIGN_IN_FAILED,
            "The server refused the user name and password (or the folder).",
            "password",
        ) from refused
    except OSError as unreachable:
        raise DomainError(
            EmailAccountErrorCode.UNREACHABLE,
            f"Could not talk to {account.host}:{port} ({type(unreachable).__name__}).",
            "host",
        ) from unreachable
    if await EmailAccount.filter(agency_id=actor.agency_id).count() >= MAX_ACCOUNTS:
        raise DomainError(
            EmailAccountErrorCode.TOO_MANY, f"An agency connects at most {MAX_ACCOUNTS} mailboxes."
        )
    try:
        async with in_transaction() as conn:
            row = await EmailAccount.create(
                agency_id=actor.agency_id,
                user_id=actor.user_id,
                purpose=account.purpose,
                host=account.host,
                port=port,
                security=account.security,
                username=account.username,
                password_encrypted=seal_password(policy, account.password),
                folder=account.folder,
                uid_validity=validity,
                last_uid=last_uid,
                using_db=conn,
            )
            await record_created(actor, AGGREGATE, str(row.id), snapshot(row), conn)
    except IntegrityError as exc:
        raise DomainError(
            EmailAccountErrorCode.DUPLICATE,
            "That mailbox folder is connected already.",
            "username",
        ) from exc
    return row


def _readable(actor: Actor, access: Access = Access.READ) -> Any:
    return EmailAccount.filter(rows(actor, Resource.EMAIL_ACCOUNTS, access, owner_field="user_id"))


async def list_email_accounts(actor: Actor) -> list[EmailAccount]:
    """The actor's own mailboxes (an admin's: every mailbox of the agency)."""
    found: list[EmailAccount] = await _readable(actor).order_by("created_at", "id")
    return found


async def get_email_account(actor: Actor, account_id: UUID) -> EmailAccount:
    account: EmailAccount | None = await _readable(actor).get_or_none(id=account_id)
    if account is None:
        raise DomainError(EmailAccountErrorCode.NOT_FOUND, "No such mailbox.", "id")
    return account


async def remove_email_account(actor: Actor, account_id: UUID) -> EmailAccount:
    """Disconnect a mailbox; mail already taken in stays."""
    async with in_transaction() as conn:
        account: EmailAccount | None = (
            await _readable(actor, Access.WRITE)
            .using_db(conn)
            .select_for_update()
            .get_or_none(id=account_id)
        )
        if account is None:
            raise DomainError(EmailAccountErrorCode.NOT_FOUND, "No such mailbox.", "id")
        await account.delete(using_db=conn)
        await record_deleted(actor, AGGREGATE, str(account.id), snapshot(account), conn)
    return account
