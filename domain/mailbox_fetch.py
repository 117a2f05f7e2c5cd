"""Reading a connected mailbox: the messages after the last UID taken, each handed to the
inbound door (`domain.inbound_emails.receive`) and the UID remembered once it is stored.

The worker's schedule calls `fetch_mailbox` for every account. The folder is opened
read-only (`EXAMINE`, `BODY.PEEK`: nothing is marked read or moved). A message is taken in,
then `last_uid` moves past it, so a fetch that stops half-way resumes where it stopped;
one stored but not yet remembered is found by its Message-ID and not taken twice. When the
server's UIDVALIDITY changes, UIDs start over: the account reads the folder again from the
start, and Message-IDs keep what it had from coming in twice. A message over the size limit,
or that cannot be read, is passed over (and said so in the log).

imaplib (the standard library) is blocking, so each command runs in a thread; the socket is
opened to the address the policy checked, with TLS verified against the host name.
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from db.email_accounts import EmailAccount
from domain.email_accounts import (
    AccountStatus,
    MailboxPolicy,
    checked_address,
    login_of,
    open_password,
)
from domain.imap_sessions import ImapSession, close, ok, open_folder
from domain.inbound_addresses import Mailbox
from domain.inbound_emails import Delivery, receive
from domain.inbound_parsing import MalformedEmail
from domain.signed_links import LinkConfig
from domain.storage import Storage
from domain.webhook_targets import TargetRefused

log = logging.getLogger(__name__)

_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_messages: int = 200  # a fetch; the next one goes on from there
    max_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    taken: int = 0
    passed_over: int = 0
    error: str = ""


def _new_uids(imap: ImapSession, after: int) -> dict[int, int]:
    """UID -> size of each message after `after` (`n:*` also names the last one: left out)."""
    data = ok(imap.uid("FETCH", f"{after + 1}:*", "(UID RFC822.SIZE)"), "FETCH sizes")
    sizes: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        found = _SIZE.search(line)
        if found is None:
            continue
        uid, size = (found.group(1), found.group(2)) if found.group(1) else found.group(4, 3)
        if int(uid) > after:
            sizes[int(uid)] = int(size)
    return dict(sorted(sizes.items()))


def _message(imap: ImapSession, uid: int) -> bytes:
    data = ok(imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), "FETCH message")
    for item in data:
        if isinstance(item, tuple) and isinstance(item[1], bytes):
            return item[1]
    return b""


async def _fail(account: EmailAccount, error: str) -> FetchOutcome:
    account.status = AccountStatus.FAILING
    account.last_error = error[:500]
    account.last_fetched_at = datetime.now(UTC)
    await account.save(update_fields=["status", "last_error", "last_fetched_at"])
    log.warning("mailbox fetch failed", extra={"email_account_id": str(account.id)})
    return FetchOutcome(error=error)


async def _remember(account: EmailAccount, uid: int) -> None:
    account.last_uid = uid
    await account.save(update_fields=["last_uid"])


async def fetch_mailbox(
    storage: Storage,
    links: LinkConfig,
    policy: MailboxPolicy,
    limits: FetchLimits,
    account_id: UUID,
) -> FetchOutcome:
    """Take in the account's new messages (at most `limits.max_messages`)."""
    account = await EmailAccount.get_or_none(id=account_id)
    if account is None:
        return FetchOutcome(error="removed")
    try:
        password = open_password(policy, account.password_encrypted)
        address = await checked_address(policy, account.host, account.port)
        imap, validity, _ = await asyncio.to_thread(
            open_folder, login_of(account, password), address
        )
    except TargetRefused as refused:
        return await _fail(account, refused.message)
    except ValueError as unreadable:
        return await _fail(account, str(unreadable))
    except (OSError, imaplib.IMAP4.error) as error:
        return await _fail(account, f"{type(error).__name__}: {error}")
    taken = passed_over = 0
    try:
        if account.uid_validity != validity:  # UIDs started over: so does the account
            account.uid_validity = validity
            account.last_uid = 0
            await account.save(update_fields=["uid_validity", "last_uid"])
        sizes = await asyncio.to_thread(_new_uids, imap, account.last_uid)
        for uid, size in list(sizes.items())[: limits.max_messages]:
            if size > limits.max_bytes:
                log.info("mailbox message over the size limit passed over", extra={"uid": uid})
                passed_over += 1
                await _remember(account, uid)
                continue
            raw = await asyncio.to_thread(_message, imap, uid)
            delivery = Delivery(
                raw=raw,
                agency_id=account.agency_id,
                email_account_id=account.id,
                mailbox=Mailbox(account.purpose),
            )
            try:
                # None taken: the same message came in before (a fetch that stopped early).
                taken += len(await receive(storage, links, delivery))
            except MalformedEmail:
                log.info("unreadable mailbox message passed over", extra={"uid": uid})
                passed_over += 1
            await _remember(account, uid)
    except (OSError, imaplib.IMAP4.error) as error:
        return await _fail(account, f"{type(error).__name__}: {error}")
    finally:
        await asyncio.to_thread(close, imap)
    account.status = AccountStatus.OK
    account.last_error = ""
    account.last_fetched_at = datetime.now(UTC)
    await account.save(update_fields=["status", "last_error", "last_fetched_at"])
    return FetchOutcome(taken=taken, passed_over=passed_over)


async def mailboxes_to_fetch() -> list[str]:
    """Every connected account (ids, oldest first)."""
    ids = await EmailAccount.all().order_by("created_at").values_list("id", flat=True)
    return [str(account_id) for account_id in ids]
