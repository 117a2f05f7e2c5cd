"""Support mail and tickets: a new message to support@ opens a ticket (where the agency turned
that on), and the customer's answer to a ticket's public reply lands on the ticket and moves
a Pending ticket back to Open, reopens a Resolved one within the reopen window, and after it
opens a new ticket that follows the old one."""

from __future__ import annotations

from datetime import timedelta

from db.agencies import Agency
from db.contacts import Contact
from db.inbound_emails import InboundEmailLink
from db.tickets import Ticket
from domain import tickets
from domain.inbound_addresses import Mailbox
from domain.messages import deliver_message
from tests.integration.test_inbound_email import Inbound, inbound, mail

__all__ = ["inbound"]  # the fixture, used by name


async def test_mail_to_support_opens_a_ticket_for_a_new_sender(inbound: Inbound) -> None:
    flows = inbound.flows
    await Agency.filter(id=flows.agency_id).update(tickets_from_mail=True)
    support = inbound.address(Mailbox.SUPPORT)

    await inbound.send(
        mail("max@tools.example", support, subject="Login broken", body="It says 403."),
        "max@tools.example",
        [support],
    )

    (email,) = await inbound.processed()
    assert email.outcome == "new_ticket"
    contact = await Contact.get(id=email.contact_id)
    assert contact.emails == ["max@tools.example"]
    ticket = await Ticket.get(contact_id=contact.id)
    assert (ticket.subject, ticket.channel, ticket.status) == ("Login broken", "email", "new")
    assert ticket.description == "It says 403."
    links = await InboundEmailLink.filter(inbound_email_id=email.id)
    linked = sorted(link.record_type for link in links)
    assert linked == ["contact", "ticket"]


async def test_the_customer_s_answer_threads_to_the_ticket_and_reopens_a_pending_one(
    inbound: Inbound,
) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["ada@example.com"])
    ticket = await tickets.create_ticket(
        flows.actor, {"subject": "Engine stalls", "contact_id": contact.id}
    )
    reply = await tickets.reply_to_ticket(flows.actor, ticket.id, "Which model is it?")
    await tickets.transition_ticket(flows.actor, ticket.id, "wait_on_customer")
    await deliver_message(flows.smtp.config(), flows.links, reply.id)
    reply_to = flows.smtp.messages[-1].message["Reply-To"]

    answer = mail("ada@example.com", reply_to, subject="Re: Engine stalls", body="Model 2.")
    await inbound.send(answer, "ada@example.com", [reply_to])

    (email,) = await inbound.processed()
    assert (email.outcome, email.contact_id, email.reply_to_message_id) == (
        "ticket_reply",
        contact.id,
        reply.id,
    )
    assert (await Ticket.get(id=ticket.id)).status == "open"
    timeline = await InboundEmailLink.filter(record_type="ticket", record_id=str(ticket.id))
    assert [link.inbound_email_id for link in timeline] == [email.id]  # type: ignore[attr-defined]


async def test_an_answer_reopens_a_resolved_ticket_within_the_window_and_later_opens_a_new_one(
    inbound: Inbound,
) -> None:
    flows = inbound.flows
    customer = await flows.create_customer()
    contact = await flows.create_contact(emails=["ada@example.com"])
    ticket = await tickets.create_ticket(
        flows.actor,
        {"subject": "Engine stalls", "contact_id": contact.id, "customer_id": customer.id},
    )
    reply = await tickets.reply_to_ticket(flows.actor, ticket.id, "Fixed: new plugs.")
    await tickets.transition_ticket(flows.actor, ticket.id, "resolve")
    await deliver_message(flows.smtp.config(), flows.links, reply.id)
    reply_to = flows.smtp.messages[-1].message["Reply-To"]

    again = mail("ada@example.com", reply_to, subject="Re: Engine stalls", body="Stalls again.")
    await inbound.send(again, "ada@example.com", [reply_to])
    (first,) = await inbound.processed()
    assert first.outcome == "ticket_reply"
    assert (await Ticket.get(id=ticket.id)).status == "open"  # within the reopen window

    await tickets.transition_ticket(flows.actor, ticket.id, "resolve")
    days = (await Agency.get(id=flows.agency_id)).ticket_reopen_days
    resolved = await Ticket.get(id=ticket.id)
    assert resolved.resolved_at is not None
    long_ago = resolved.resolved_at - timedelta(days=days + 1)
    await Ticket.filter(id=ticket.id).update(resolved_at=long_ago)
    late = mail("ada@example.com", reply_to, subject="Re: Engine stalls", body="And again!")
    await inbound.send(late, "ada@example.com", [reply_to])

    _, second = await inbound.processed(2)
    assert second.outcome == "new_ticket"
    assert (await Ticket.get(id=ticket.id)).status == "resolved"  # left as it was
    follow_up = await Ticket.get(follows_ticket_id=ticket.id)
    assert (follow_up.subject, follow_up.contact_id, follow_up.customer_id) == (
        "Re: Engine stalls",
        contact.id,
        customer.id,
    )
    assert (follow_up.channel, follow_up.description) == ("email", "And again!")
