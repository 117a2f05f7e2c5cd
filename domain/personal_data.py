"""Where a contact's personal data lives: the lookups a privacy export and an erasure share.

A person's data is the contact row and what hangs off it by design (custom values, notes,
documents, consent, messages to it, mail from it) and the records made about them (their
leads, deals, calling tasks, meetings and tickets), whose events and audit entries tell their story.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q

from db.calling_tasks import CallingTask
from db.card_scans import CardScan
from db.contacts import Contact
from db.deals import Deal
from db.documents import Document
from db.inbound_emails import InboundEmail, InboundEmailLink
from db.leads import Lead
from db.meetings import Meeting
from db.messages import Message
from db.tickets import Ticket
from domain.actors import Actor
from domain.errors import DomainError

AGGREGATE = "contact"
CARD_SCAN = "card_scan"
RECORDS_ABOUT_A_CONTACT = (Lead, Deal, CallingTask, Meeting, Ticket)


class PersonalDataErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    ALREADY_ERASED = "ALREADY_ERASED"
    FORBIDDEN = "FORBIDDEN"
    STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"


async def held_contact(
    actor: Actor, contact_id: UUID, conn: BaseDBAsyncClient, lock: bool = False
) -> Contact:
    """Any of the agency's contacts, deleted ones too (a deleted contact is still held), but
    not one already erased: nothing is held about it any more."""
    query = Contact.filter(agency_id=actor.agency_id, id=contact_id).using_db(conn)
    contact = await (query.select_for_update() if lock else query).first()
    if contact is None:
        raise DomainError(
            PersonalDataErrorCode.NOT_FOUND, f"No contact with id {contact_id}.", "id"
        )
    if contact.erased_at is not None:
        raise DomainError(
            PersonalDataErrorCode.ALREADY_ERASED, "The contact has been erased.", "id"
        )
    return contact


async def mail_from(contact: Contact, conn: BaseDBAsyncClient) -> list[InboundEmail]:
    """The mail the person sent: routed to them, or from one of their addresses."""
    ids = await (
        InboundEmailLink.filter(
            agency_id=contact.agency_id, record_type=AGGREGATE, record_id=str(contact.id)
        )
        .using_db(conn)
        .values_list("inbound_email_id", flat=True)
    )
    emails = [e.lower() for e in contact.emails]
    found: dict[UUID, InboundEmail] = {}
    for query in (
        InboundEmail.filter(agency_id=contact.agency_id, contact_id=contact.id),
        InboundEmail.filter(agency_id=contact.agency_id, from_address__in=emails),
        InboundEmail.filter(agency_id=contact.agency_id, id__in=ids),
    ):
        for mail in await query.using_db(conn).order_by("received_at"):
            found[mail.id] = mail
    return list(found.values())


async def card_scans_of(contact: Contact, conn: BaseDBAsyncClient) -> list[UUID]:
    """Ids of the visiting-card scans confirmed as this contact."""
    query = CardScan.filter(agency_id=contact.agency_id, contact_id=contact.id).using_db(conn)
    return [scan.id for scan in await query.only("id")]


async def documents_of(contact: Contact, conn: BaseDBAsyncClient) -> list[Document]:
    """The contact's documents, and the photos of the visiting cards it was scanned from."""
    query = Document.filter(
        Q(record_type=AGGREGATE, record_id=contact.id)
        | Q(record_type=CARD_SCAN, record_id__in=await card_scans_of(contact, conn)),
        agency_id=contact.agency_id,
    )
    return list(await query.using_db(conn).order_by("created_at"))


async def messages_to(contact: Contact, conn: BaseDBAsyncClient) -> list[Message]:
    query = Message.filter(
        agency_id=contact.agency_id, record_type=AGGREGATE, record_id=str(contact.id)
    )
    return list(await query.using_db(conn).order_by("created_at"))


async def records_about(contact: Contact, conn: BaseDBAsyncClient) -> set[str]:
    """Ids of the rows that are the person's: theirs and the records made about them."""
    owned = {str(contact.id)}
    for model in RECORDS_ABOUT_A_CONTACT:
        rows = await model.filter(agency_id=contact.agency_id, contact_id=contact.id).using_db(conn)
        owned.update(str(row.pk) for row in rows)
    owned.update(str(m.id) for m in await messages_to(contact, conn))
    owned.update(str(m.id) for m in await mail_from(contact, conn))
    return owned
