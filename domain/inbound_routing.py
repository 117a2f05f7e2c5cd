"""Where a received message goes: on the timelines of the person who wrote it, or a new lead.

Run by the `ProcessInboundEmail` workflow's activity, once per stored message:

* a delivery report marks the addresses it says failed for good undeliverable (the sending
  path's suppression) and goes no further;
* the record it concerns is the one the CRM's message it answers was sent to (its
  `reply+` address, else its In-Reply-To or References), else the live contact with the
  sender's address;
* a message from a known person is linked to the contact's timeline and those of its
  customers, open leads and open deals, and announced as `email.received` on the contact
  (the event flows wait for, and stop on); an auto-reply is linked but announces nothing;
* an unknown sender writing to a sales address becomes a contact and a lead (source
  `email`, owned as the agency's `lead_assignee` says); the contact is found, not made
  again, by the next message from the same address;
* attachments become documents of the contact (the documents' storage and limits);
* an answer to a ticket's public reply goes on the ticket too (outcome `ticket_reply`), and
  moves a Pending ticket back to Open; where the agency turned `tickets_from_mail` on, a new
  message to the support address opens a ticket (outcome `new_ticket`; an unknown sender
  becomes a contact first, as for sales).

The row is processed once: its status moves from `received` in the transaction that does
the work, and a retried activity finds it done. Creating a sender's contact takes the
agency's row lock first, so two first messages from one address make one contact.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.contacts import Contact
from db.customers import CustomerContact
from db.deals import Deal
from db.documents import Document
from db.inbound_emails import InboundEmail, InboundEmailLink
from db.leads import Lead
from db.messages import Message
from db.tickets import Ticket
from db.users import User
from domain import contacts, leads, tickets
from domain.actors import Actor
from domain.contact_behaviour import note_behaviour
from domain.documents import UploadLimits, upload_document
from domain.errors import DomainError
from domain.events import append_event
from domain.flows.people import user_with_role
from domain.inbound_addresses import Mailbox
from domain.inbound_emails import InboundStatus
from domain.inbound_parsing import MalformedEmail, ParsedEmail, parse
from domain.lead_assignment import Facts, owner_by_rules
from domain.lead_scoring_rules import Behaviour
from domain.message_kinds import RECIPIENT_TYPES
from domain.message_preferences import ConsentSource, mark_undeliverable, opt_out_of_kind
from domain.storage import Storage

log = logging.getLogger(__name__)

RECEIVED_EVENT = "email.received"
SOURCE = "email"
OPEN_LEAD_STATUSES = ("new", "qualified")
_ROLE_PREFIX = "role:"
DEFAULT_ASSIGNEE = "role:sales_person"


class Outcome:
    REPLY = "reply"
    MESSAGE = "message"
    NEW_LEAD = "new_lead"
    AUTO_REPLY = "auto_reply"
    UNSUBSCRIBE = "unsubscribe"
    BOUNCE = "bounce"
    UNMATCHED = "unmatched"
    TICKET_REPLY = "ticket_reply"
    NEW_TICKET = "new_ticket"


async def _bytes(storage: Storage, key: str) -> bytes:
    chunks: AsyncIterator[bytes] = storage.open(key)
    return b"".join([chunk async for chunk in chunks])


async def _answered(email: InboundEmail, parsed: ParsedEmail) -> Message | None:
    """The CRM's message this one answers: by its reply address, else by its headers."""
    if email.reply_to_message_id is not None:
        found = await Message.get_or_none(id=email.reply_to_message_id, agency_id=email.agency_id)
        if found is not None:
            return found
    if not parsed.answers:
        return None
    headers = [f"<{message_id}>" for message_id in parsed.answers]
    return (
        await Message.filter(agency_id=email.agency_id, message_id__in=headers)
        .order_by("-created_at")
        .first()
    )


async def _records_of_contact(agency_id: UUID, contact_id: UUID) -> list[tuple[str, str]]:
    """The contact and the records it belongs to now: customers, open leads, open deals."""
    records = [("contact", str(contact_id))]
    customers = await CustomerContact.filter(
        agency_id=agency_id, contact_id=contact_id
    ).values_list("customer_id", flat=True)
    records += [("customer", str(customer_id)) for customer_id in customers]
    open_leads = await Lead.filter(
        agency_id=agency_id,
        contact_id=contact_id,
        status__in=OPEN_LEAD_STATUSES,
        deleted_at__isnull=True,
    ).values_list("id", flat=True)
    records += [("lead", str(lead_id)) for lead_id in open_leads]
    open_deals = await Deal.filter(
        agency_id=agency_id, contact_id=contact_id, status="open", deleted_at__isnull=True
    ).values_list("id", flat=True)
    records += [("deal", str(deal_id)) for deal_id in open_deals]
    return records


async def _lead_owner(actor: Actor, agency: Agency, conn: BaseDBAsyncClient) -> UUID:
    """The owner the agency's assignment rules give a lead from mail (`domain.lead_assignment`);
    without rules, or when none fits, the agency's `lead_assignee`; a chosen user who has left
    since is replaced by the least busy sales person (a lead must not wait for someone who
    will never see it)."""
    by_rules = await owner_by_rules(agency.id, Facts(source=SOURCE), conn)
    if by_rules is not None:
        return by_rules
    assignee = agency.lead_assignee or DEFAULT_ASSIGNEE
    if not assignee.startswith(_ROLE_PREFIX):
        user_id = UUID(assignee)
        if await User.exists(id=user_id, agency_id=agency.id, is_active=True):
            return user_id
        assignee = DEFAULT_ASSIGNEE
    return await user_with_role(actor, assignee[len(_ROLE_PREFIX) :])


def _names(parsed: ParsedEmail) -> tuple[str, str]:
    """From the header or the signature; else from the address (jane.doe@ -> Jane Doe)."""
    name = parsed.signature.name
    if not name:
        local = parsed.from_address.partition("@")[0].partition("+")[0]
        name = " ".join(part.capitalize() for part in re.split(r"[._-]+", local) if part)
    first, _, last = " ".join(name.replace('"', "").split()).partition(" ")
    return first[:100] or "Unknown", last[:100]


def _sender_fields(parsed: ParsedEmail, owner_id: UUID | None) -> dict[str, Any]:
    """A new sender's contact: names, company and phone from the message, source `email`."""
    first_name, last_name = _names(parsed)
    data: dict[str, Any] = {
        "first_name": first_name,
        "last_name": last_name,
        "emails": [parsed.from_address],
        "company_name": parsed.signature.company,
        "source": SOURCE,
        "owner_id": owner_id,
    }
    if parsed.signature.phone:
        data["phones"] = [parsed.signature.phone]
    return data


async def _new_lead(
    actor: Actor, email: InboundEmail, parsed: ParsedEmail
) -> tuple[UUID, UUID | None, bool]:
    """A contact and a lead for a new sender (the agency locked: one contact per address),
    and whether they were made now (False: another message of the sender made them)."""
    async with in_transaction() as conn:
        agency = await Agency.filter(id=email.agency_id).select_for_update().get()
        found = await contacts.contact_with_address(email.agency_id, parsed.from_address)
        if found is not None:
            lead = await Lead.filter(
                agency_id=email.agency_id,
                contact_id=found.id,
                status__in=OPEN_LEAD_STATUSES,
                deleted_at__isnull=True,
            ).first()
            return found.id, lead.id if lead is not None else None, False
        owner_id = await _lead_owner(actor, agency, conn)
        contact = await contacts.create_contact(actor, _sender_fields(parsed, owner_id))
        title = parsed.subject or f"Email from {contact.full_name}"
        lead = await leads.create_lead(
            actor,
            {
                "title": title[:200],
                "contact_id": contact.id,
                "source": SOURCE,
                "owner_id": owner_id,
            },
        )
        return contact.id, lead.id, True


async def _sender_contact(actor: Actor, email: InboundEmail, parsed: ParsedEmail) -> UUID:
    """The sender's contact, made if none has the address (the agency locked, as for leads:
    one contact per address)."""
    async with in_transaction():
        await Agency.filter(id=email.agency_id).select_for_update().get()
        found = await contacts.contact_with_address(email.agency_id, parsed.from_address)
        if found is not None:
            return found.id
        return (await contacts.create_contact(actor, _sender_fields(parsed, None))).id


async def _new_ticket(
    actor: Actor,
    email: InboundEmail,
    parsed: ParsedEmail,
    records: list[tuple[str, str]],
    follows: Ticket | None = None,
) -> UUID:
    """The ticket a support message opens, once: its id derives from the message's, so a
    retried activity finds it. `follows`: the ticket the mail answered, too late to reopen
    (the new one names it, and keeps its customer)."""
    ticket_id = uuid.uuid5(email.id, "ticket")
    if await Ticket.exists(id=ticket_id):
        return ticket_id
    customer = next((UUID(i) for t, i in records if t == "customer"), None)
    if follows is not None and follows.customer_id is not None:
        customer = follows.customer_id
    data = {
        "subject": (parsed.subject or f"Email from {parsed.from_address}")[:200],
        "description": (parsed.reply_text or parsed.text)[: tickets.MAX_DESCRIPTION_LENGTH],
        "channel": tickets.TicketChannel.EMAIL,
        "contact_id": email.contact_id,
        "customer_id": customer,
    }
    follows_id = follows.id if follows is not None else None
    created = await tickets.create_ticket(actor, data, ticket_id, follows_ticket_id=follows_id)
    return created.id


async def _link(
    email: InboundEmail, records: list[tuple[str, str]], conn: BaseDBAsyncClient
) -> None:
    for record_type, record_id in records:
        await InboundEmailLink.get_or_create(
            inbound_email_id=email.id,
            record_type=record_type,
            record_id=record_id,
            defaults={"agency_id": email.agency_id, "received_at": email.received_at},
            using_db=conn,
        )


async def _conclude(
    actor: Actor,
    email: InboundEmail,
    parsed: ParsedEmail | None,
    outcome: str,
    records: list[tuple[str, str]],
    announce: bool,
) -> InboundEmail:
    async with in_transaction() as conn:
        locked = await InboundEmail.filter(id=email.id).using_db(conn).select_for_update().get()
        if locked.status != InboundStatus.RECEIVED:
            return locked
        email.status = InboundStatus.PROCESSED
        email.outcome = outcome
        email.processed_at = datetime.now(UTC)
        if parsed is not None:
            email.from_name = parsed.from_name
            email.subject = parsed.subject
            email.text_body = parsed.text
            email.reply_text = parsed.reply_text
            email.authentication_results = parsed.authentication_results
        await email.save(using_db=conn)
        await _link(email, records, conn)
        if announce and records:
            record_type, record_id = records[0]
            payload = {
                "inbound_email_id": str(email.id),
                "message_id": email.message_id,
                "from": email.from_address,
                "subject": email.subject,
                "outcome": outcome,
                "in_reply_to_message": email.reply_to_message_id,
                "lead_id": str(email.lead_id) if email.lead_id else None,
            }
            await append_event(actor, RECEIVED_EVENT, record_type, record_id, payload, conn)
            if record_type == "contact":
                await note_behaviour(
                    email.agency_id,
                    UUID(record_id),
                    Behaviour.EMAIL_REPLIED,
                    email.subject,
                    email.received_at,
                    conn,
                )
    return email


async def _unsubscribe(actor: Actor, answered: Message) -> None:
    """An "unsubscribe" answer to the CRM's message turns off that message's kind for its
    record, as the one-click link would (consent source `reply`)."""
    if answered.record_type not in RECIPIENT_TYPES:
        return
    async with in_transaction() as conn:
        await opt_out_of_kind(
            actor,
            answered.record_type,
            answered.record_id,
            answered.kind,
            ConsentSource.REPLY,
            conn,
            answered.id,
        )


async def _save_attachments(
    actor: Actor, storage: Storage, limits: UploadLimits, email: InboundEmail, parsed: ParsedEmail
) -> None:
    """Each attachment once, as a document of the contact (a retry finds the ones saved)."""
    if email.contact_id is None:
        return
    for index, attachment in enumerate(parsed.attachments):
        document_id = uuid.uuid5(email.id, str(index))
        if await Document.exists(id=document_id):
            continue

        async def content(data: bytes = attachment.content) -> AsyncIterator[bytes]:
            yield data

        try:
            await upload_document(
                actor,
                storage,
                limits,
                "contact",
                email.contact_id,
                attachment.file_name,
                attachment.content_type,
                content(),
                document_id=document_id,
            )
        except DomainError as refused:
            log.info("attachment %s of %s not kept: %s", index, email.id, refused.code)


async def process_inbound_email(
    storage: Storage, limits: UploadLimits, email_id: UUID
) -> InboundEmail:
    """Route one stored message (see the module docstring); its row as it ends."""
    email = await InboundEmail.get(id=email_id)
    if email.status != InboundStatus.RECEIVED:
        return email
    actor = Actor.system(email.agency_id, "inbound-email")
    try:
        parsed = parse(await _bytes(storage, email.storage_key))
    except MalformedEmail as malformed:
        email.status = InboundStatus.FAILED
        email.reason = str(malformed)[:500]
        await email.save(update_fields=["status", "reason"])
        return email
    email.from_address = parsed.from_address
    if parsed.delivery_report:
        if parsed.bounced:
            await mark_undeliverable(email.agency_id, parsed.bounced, "bounced (delivery report)")
        return await _conclude(actor, email, parsed, Outcome.BOUNCE, [], announce=False)
    answered = await _answered(email, parsed)
    if answered is not None:
        email.reply_to_message_id = answered.id
    records: list[tuple[str, str]] = []
    ticket: Ticket | None = None
    if answered is not None and answered.record_type == tickets.AGGREGATE:
        ticket = await Ticket.get_or_none(id=answered.record_id, agency_id=email.agency_id)
    if ticket is not None:
        if ticket.contact_id is not None:
            email.contact_id = ticket.contact_id
            records = await _records_of_contact(email.agency_id, ticket.contact_id)
    elif answered is not None and answered.record_type == "customer":
        records = [("customer", answered.record_id)]
    else:
        contact: Contact | None = None
        if answered is not None and answered.record_type == "contact":
            contact = await Contact.get_or_none(
                id=answered.record_id, agency_id=email.agency_id, deleted_at__isnull=True
            )
        contact = contact or await contacts.contact_with_address(
            email.agency_id, parsed.from_address
        )
        if contact is not None:
            email.contact_id = contact.id
            records = await _records_of_contact(email.agency_id, contact.id)
    agency = await Agency.get(id=email.agency_id)
    if parsed.auto_reply:
        outcome = Outcome.AUTO_REPLY
    elif ticket is not None:
        answer = await tickets.customer_replied(ticket.id, email.agency_id)
        outcome = Outcome.TICKET_REPLY
        if answer is tickets.CustomerAnswer.TOO_LATE:  # closed for good: a follow-up ticket
            follows = ticket
            ticket = await Ticket.get(id=await _new_ticket(actor, email, parsed, records, follows))
            outcome = Outcome.NEW_TICKET
    elif answered is None and email.mailbox == Mailbox.SUPPORT and agency.tickets_from_mail:
        if email.contact_id is None:
            email.contact_id = await _sender_contact(actor, email, parsed)
            records = await _records_of_contact(email.agency_id, email.contact_id)
        ticket = await Ticket.get(id=await _new_ticket(actor, email, parsed, records))
        outcome = Outcome.NEW_TICKET
    elif answered is not None and parsed.unsubscribe:
        await _unsubscribe(actor, answered)
        outcome = Outcome.UNSUBSCRIBE
    elif answered is not None:
        outcome = Outcome.REPLY
    elif records:
        outcome = Outcome.MESSAGE
    elif email.mailbox == Mailbox.SALES:
        email.contact_id, email.lead_id, created = await _new_lead(actor, email, parsed)
        records = await _records_of_contact(email.agency_id, email.contact_id)
        outcome = Outcome.NEW_LEAD if created else Outcome.MESSAGE
    else:
        outcome = Outcome.UNMATCHED
    if email.lead_id is None and email.contact_id is not None:
        email.lead_id = next((UUID(i) for t, i in records if t == "lead"), None)
    if ticket is not None:  # on the ticket's timeline too; the contact's stay first
        records.append((tickets.AGGREGATE, str(ticket.id)))
    # An auto-reply is no answer; an unsubscribe request is a consent change (its own event),
    # not a conversation.
    announce = outcome not in (Outcome.AUTO_REPLY, Outcome.UNSUBSCRIBE)
    concluded = await _conclude(actor, email, parsed, outcome, records, announce=announce)
    await _save_attachments(actor, storage, limits, concluded, parsed)
    return concluded
