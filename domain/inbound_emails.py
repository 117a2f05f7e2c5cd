"""Taking mail in: the raw message is stored first, then a workflow reads and routes it.

`receive` is the one door for the SMTP server and the IMAP fetcher alike. It refuses what
cannot be read (nothing kept), stores the bytes in the document storage, then writes the
row and its processing (a `ProcessInboundEmail` run, through the outbox) in one
transaction: a message the server acknowledged is never lost, whatever fails after. The
Message-ID is unique per agency, so the same message delivered twice, or fetched again, is
taken in once.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.inbound_emails import InboundEmail as InboundEmail
from domain.actors import Actor
from domain.attachments import check_readable
from domain.errors import DomainError
from domain.inbound_addresses import InboundAddress, Mailbox, parse_address
from domain.inbound_parsing import MalformedEmail, message_id_of, parse_headers, sender
from domain.outbox import OutboxKind, enqueue
from domain.roles import Role
from domain.signed_links import LinkConfig
from domain.storage import Storage

AGGREGATE = "inbound_email"
# When several of an agency's addresses receive one message, the most specific one routes it.
_PRECEDENCE = (Mailbox.REPLY, Mailbox.SALES, Mailbox.SUPPORT)


class InboundStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


class InboundErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as it arrived: the envelope (SMTP) or the account it was fetched from."""

    raw: bytes
    envelope_from: str = ""
    recipients: tuple[str, ...] = ()
    # A connected mailbox: its agency and id (its messages need no inbound address).
    agency_id: UUID | None = None
    email_account_id: UUID | None = None
    mailbox: Mailbox = Mailbox.SALES


async def _chunk(raw: bytes) -> AsyncIterator[bytes]:
    yield raw


def processing_workflow_id(email: InboundEmail) -> str:
    return f"inbound-email-{email.agency_id}-{email.id}"


def _chosen(addresses: list[InboundAddress]) -> InboundAddress:
    return min(addresses, key=lambda address: _PRECEDENCE.index(address.mailbox))


async def _destinations(
    links: LinkConfig, delivery: Delivery
) -> list[tuple[UUID, InboundAddress | None]]:
    """Each agency the message is for, with the address that routes it there."""
    if delivery.agency_id is not None:
        return [(delivery.agency_id, None)]
    by_slug: dict[str, list[InboundAddress]] = {}
    for recipient in delivery.recipients:
        address = parse_address(links, recipient)
        if address is not None:
            by_slug.setdefault(address.agency_slug, []).append(address)
    agencies = await Agency.filter(slug__in=list(by_slug)).values_list("id", "slug")
    return [(agency_id, _chosen(by_slug[slug])) for agency_id, slug in agencies]


async def _take_in(
    storage: Storage,
    delivery: Delivery,
    agency_id: UUID,
    address: InboundAddress | None,
    message_id: str,
    headers: dict[str, str],
) -> InboundEmail | None:
    if await InboundEmail.exists(agency_id=agency_id, message_id=message_id):
        return None
    email_id = uuid.uuid4()
    key = f"{agency_id}/inbound-{email_id}"
    await storage.put(key, _chunk(delivery.raw))
    try:
        async with in_transaction() as conn:
            email = await InboundEmail.create(
                id=email_id,
                agency_id=agency_id,
                mailbox=address.mailbox if address is not None else delivery.mailbox,
                email_account_id=delivery.email_account_id,
                message_id=message_id,
                envelope_from=delivery.envelope_from[:320],
                recipients=list(delivery.recipients)[:100],
                from_address=headers["from"][:320],
                subject=headers["subject"][:255],
                storage_key=key,
                size=len(delivery.raw),
                sha256=hashlib.sha256(delivery.raw).hexdigest(),
                reply_to_message_id=address.message_id if address is not None else None,
                using_db=conn,
            )
            await enqueue(
                agency_id,
                OutboxKind.PROCESS_INBOUND_EMAIL,
                processing_workflow_id(email),
                {"inbound_email_id": str(email.id)},
                conn,
            )
    except IntegrityError:
        # The same message, taken in at the same moment by another delivery.
        await storage.delete(key)
        return None
    except BaseException:
        await storage.delete(key)
        raise
    return email


async def receive(storage: Storage, links: LinkConfig, delivery: Delivery) -> list[InboundEmail]:
    """Store the message once for each agency it is addressed to; the rows taken in (none
    for a message already received). `MalformedEmail` for one that cannot be read."""
    message = parse_headers(delivery.raw)
    message_id = message_id_of(message, delivery.raw)
    if len(message_id) > 255:
        raise MalformedEmail("The Message-ID is too long.")
    headers = {
        "from": sender(message)[0],
        "subject": " ".join(str(message.get("Subject", "")).split()),
    }
    taken: list[InboundEmail] = []
    for agency_id, address in await _destinations(links, delivery):
        email = await _take_in(storage, delivery, agency_id, address, message_id, headers)
        if email is not None:
            taken.append(email)
    return taken


async def get_inbound_email(actor: Actor, email_id: UUID) -> InboundEmail:
    """A received message, for whoever may read its contact (admins: any of the agency)."""
    email = await InboundEmail.get_or_none(id=email_id, agency_id=actor.agency_id)
    if email is None:
        raise DomainError(InboundErrorCode.NOT_FOUND, "No such email.", "id")
    if email.contact_id is not None:
        await check_readable(actor, "contact", email.contact_id, InboundErrorCode, "id")
    elif Role.ADMIN not in actor.roles:
        raise DomainError(InboundErrorCode.NOT_FOUND, "No such email.", "id")
    return email
