"""Mail into the CRM over real SMTP: stored first, then processed by a Temporal workflow and
routed to the sender's timelines or to a new lead; refusals leave nothing behind."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import pytest

from crm.inbound_smtp import InboundHandler, InboundLimits, start_server
from db.agencies import Agency
from db.contacts import Contact
from db.documents import Document
from db.events import Event
from db.inbound_emails import InboundEmail, InboundEmailLink
from db.leads import Lead
from db.users import User
from domain import leads
from domain.inbound_addresses import Mailbox, mailbox_address
from domain.inbound_emails import InboundStatus
from domain.message_preferences import ConsentChange, UndeliverableAddress, get_preferences
from domain.messages import MessageRequest, deliver_message, queue_message
from domain.storage import LocalFolderStorage
from tests.fixtures.flows import Flows, eventually
from tests.fixtures.smtp import LOOPBACK, free_port

SIGNATURE = """Hello,

we need forty desks for our new office. Could you send an offer?

Best regards,
Jane Doe
Head of Purchasing, Widgets Ltd
+44 20 7946 0958
"""


@dataclass
class Inbound:
    flows: Flows
    port: int
    slug: str
    handler: InboundHandler

    def address(self, mailbox: Mailbox = Mailbox.SALES) -> str:
        return mailbox_address(self.flows.links, self.slug, mailbox)

    async def send(
        self, message: EmailMessage | bytes, sender: str, recipients: list[str] | None = None
    ) -> None:
        raw = message if isinstance(message, bytes) else message.as_bytes()
        # A client of its own: `send` refuses the null sender (<>) that bounces come from.
        async with aiosmtplib.SMTP(hostname=LOOPBACK, port=self.port) as client:
            await client.sendmail(sender, recipients or [self.address()], raw)

    async def processed(self, count: int = 1) -> list[InboundEmail]:
        """Relay the outbox, then wait until `count` messages are done."""

        async def done() -> list[InboundEmail] | None:
            await self.flows.relay_all()
            rows = await InboundEmail.filter(
                agency_id=self.flows.agency_id, status=InboundStatus.PROCESSED
            ).order_by("received_at")
            return rows if len(rows) >= count else None

        return await eventually(done)


def mail(
    sender: str,
    to: str,
    subject: str = "Desks",
    body: str = SIGNATURE,
    display_name: str = "",
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{display_name} <{sender}>" if display_name else sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="sender.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


@pytest.fixture
async def inbound(flows: Flows) -> AsyncIterator[Inbound]:
    agency = await Agency.get(id=flows.agency_id)
    handler = InboundHandler(
        flows.documents,
        flows.links,
        InboundLimits(max_bytes=200_000, max_recipients=3, sender_per_minute=5),
    )
    port = free_port()
    server = await start_server(handler, LOOPBACK, port, 200_000)
    try:
        async with flows.worker():
            yield Inbound(flows, port, agency.slug, handler)
    finally:
        server.close()
        await server.wait_closed()


async def received_events(flows: Flows, contact_id: uuid.UUID) -> list[Event]:
    return await Event.filter(
        agency_id=flows.agency_id,
        type="email.received",
        aggregate_type="contact",
        aggregate_id=str(contact_id),
    ).order_by("id")


async def test_an_unknown_sender_to_sales_becomes_one_contact_and_one_lead(
    inbound: Inbound,
) -> None:
    flows = inbound.flows
    await inbound.send(mail("Jane.Doe@Widgets.example", inbound.address()), "jane@widgets.example")
    await inbound.processed()
    await inbound.send(
        mail("jane.doe@widgets.example", inbound.address(), subject="And chairs", body="Hi again"),
        "jane@widgets.example",
    )

    first, second = await inbound.processed(2)

    contact = await Contact.get(agency_id=flows.agency_id, id=first.contact_id)
    assert (contact.first_name, contact.last_name) == ("Jane", "Doe")
    assert contact.emails == ["jane.doe@widgets.example"]
    assert contact.company_name == "Widgets Ltd"
    assert contact.phones == ["+442079460958"]
    assert contact.source == "email"
    assert contact.owner_id == flows.owner_id  # the agency's only sales person
    lead = await Lead.get(agency_id=flows.agency_id, contact_id=contact.id)
    assert (lead.title, lead.source, lead.owner_id) == ("Desks", "email", flows.owner_id)
    assert first.outcome == "new_lead"
    assert second.outcome == "message"
    assert second.contact_id == contact.id
    assert second.lead_id == lead.id
    assert await Contact.filter(agency_id=flows.agency_id).count() == 1
    assert (
        first.reply_text
        == "Hello,\n\nwe need forty desks for our new office. Could you send an offer?"
    )
    assert {
        (link.record_type, link.record_id)
        for link in await InboundEmailLink.filter(inbound_email_id=second.id)
    } == {("contact", str(contact.id)), ("lead", str(lead.id))}
    events = await received_events(flows, contact.id)
    assert [event.payload["subject"] for event in events] == ["Desks", "And chairs"]


async def test_the_first_two_mails_of_a_new_sender_at_once_make_one_contact(
    inbound: Inbound,
) -> None:
    await asyncio.gather(
        *(
            inbound.send(
                mail("max@tools.example", inbound.address(), subject=f"No {n}"), "max@tools.example"
            )
            for n in range(3)
        )
    )

    await inbound.processed(3)

    assert await Contact.filter(agency_id=inbound.flows.agency_id).count() == 1
    assert await Lead.filter(agency_id=inbound.flows.agency_id).count() == 1


async def test_a_known_contact_writing_to_support_reaches_its_timelines(inbound: Inbound) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["ada@example.com"])
    lead = await leads.create_lead(flows.actor, {"title": "Engines", "contact_id": contact.id})

    await inbound.send(
        mail("ADA@example.com", inbound.address(Mailbox.SUPPORT), body="Thanks!"),
        "ada@example.com",
        [inbound.address(Mailbox.SUPPORT)],
    )

    (email,) = await inbound.processed()
    assert (email.outcome, email.contact_id, email.lead_id) == ("message", contact.id, lead.id)
    assert email.mailbox == Mailbox.SUPPORT
    assert len(await received_events(flows, contact.id)) == 1
    assert await Lead.filter(agency_id=flows.agency_id).count() == 1


async def test_an_unknown_sender_to_support_makes_no_lead(inbound: Inbound) -> None:
    await inbound.send(
        mail("who@else.example", inbound.address(Mailbox.SUPPORT)),
        "who@else.example",
        [inbound.address(Mailbox.SUPPORT)],
    )

    (email,) = await inbound.processed()
    assert (email.outcome, email.contact_id) == ("unmatched", None)
    assert await Contact.filter(agency_id=inbound.flows.agency_id).count() == 0


async def sent_to(flows: Flows, contact: Contact) -> EmailMessage:
    """Send the contact a message through the sending path; the email as it arrived."""
    request = MessageRequest(
        record_type="contact",
        record_id=str(contact.id),
        idempotency_key=uuid.uuid4().hex,
        source="test",
        template_key="contact-welcome",
    )
    message, _ = await queue_message(flows.actor, request)
    await deliver_message(flows.smtp.config(), flows.links, message.id)
    return flows.smtp.messages[-1].message


async def test_a_reply_to_the_reply_address_threads_to_the_message_whoever_sends_it(
    inbound: Inbound,
) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["ada@example.com"])
    sent = await sent_to(flows, contact)
    reply_to = sent["Reply-To"]
    assert reply_to.startswith("reply+")
    assert reply_to.endswith(f"@{inbound.slug}.in.crm.test")

    answer = mail("assistant@engines.example", reply_to, subject="Re: Welcome")
    await inbound.send(answer, "assistant@engines.example", [reply_to])

    (email,) = await inbound.processed()
    assert (email.outcome, email.contact_id, email.mailbox) == ("reply", contact.id, "reply")
    assert email.reply_to_message_id is not None
    (event,) = await received_events(flows, contact.id)
    assert event.payload["in_reply_to_message"] == email.reply_to_message_id


async def test_a_reply_to_sales_threads_by_in_reply_to(inbound: Inbound) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["ada@example.com"])
    sent = await sent_to(flows, contact)

    answer = mail(
        "ada@example.com",
        inbound.address(),
        subject="Re: Welcome",
        In_Reply_To=sent["Message-ID"],
        References=sent["Message-ID"],
    )
    await inbound.send(answer, "ada@example.com")

    (email,) = await inbound.processed()
    assert (email.outcome, email.contact_id) == ("reply", contact.id)
    assert email.reply_to_message_id is not None


async def test_a_forged_reply_address_is_refused_at_rcpt(inbound: Inbound) -> None:
    forged = f"reply+m1-0000000000000000@{inbound.slug}.in.crm.test"
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await inbound.send(mail("x@y.example", forged), "x@y.example", [forged])
    assert refused.value.recipients[0].code == 550
    other_agency = f"sales@nobody-{uuid.uuid4().hex[:6]}.in.crm.test"
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await inbound.send(mail("x@y.example", other_agency), "x@y.example", [other_agency])
    assert await InboundEmail.all().count() == 0


async def test_an_auto_reply_is_kept_but_is_not_a_reply(inbound: Inbound) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["ada@example.com"])
    sent = await sent_to(flows, contact)

    out_of_office = mail(
        "ada@example.com",
        sent["Reply-To"],
        subject="Out of office",
        body="I am away until Monday.",
        Auto_Submitted="auto-replied",
    )
    await inbound.send(out_of_office, "ada@example.com", [sent["Reply-To"]])

    (email,) = await inbound.processed()
    assert (email.outcome, email.contact_id) == ("auto_reply", contact.id)
    assert await InboundEmailLink.filter(inbound_email_id=email.id).count() == 1
    assert await received_events(flows, contact.id) == []


def bounce_report(to: str, failed: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
        f"To: {to}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "Your message could not be delivered.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {failed}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "--B--\r\n"
    ).encode()


async def test_a_bounce_marks_the_address_undeliverable(inbound: Inbound) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["gone@example.com"])
    sent = await sent_to(flows, contact)

    await inbound.send(bounce_report(sent["Reply-To"], "Gone@example.com"), "", [sent["Reply-To"]])

    (email,) = await inbound.processed()
    assert email.outcome == "bounce"
    assert await UndeliverableAddress.exists(agency_id=flows.agency_id, address="gone@example.com")
    assert await received_events(flows, contact.id) == []


async def test_an_attachment_becomes_a_document_of_the_contact(inbound: Inbound) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["ada@example.com"])
    message = mail("ada@example.com", inbound.address(), body="The plan is attached.")
    message.add_attachment(
        b"%PDF-1.4 plan", maintype="application", subtype="pdf", filename="floor plan.pdf"
    )
    await inbound.send(message, "ada@example.com")

    (email,) = await inbound.processed()

    async def saved() -> Document | None:
        return await Document.get_or_none(agency_id=flows.agency_id, record_id=contact.id)

    document = await eventually(saved)
    assert (document.file_name, document.content_type, document.size) == (
        "floor plan.pdf",
        "application/pdf",
        len(b"%PDF-1.4 plan"),
    )
    assert email.contact_id == contact.id


async def test_the_same_message_delivered_twice_is_taken_in_once(inbound: Inbound) -> None:
    message = mail("ada@example.com", inbound.address())
    await inbound.send(message, "ada@example.com")
    await inbound.send(message, "ada@example.com")

    await inbound.processed()
    assert await InboundEmail.filter(agency_id=inbound.flows.agency_id).count() == 1


async def stored_files(flows: Flows) -> list[str]:
    assert isinstance(flows.documents, LocalFolderStorage)
    root = flows.documents.root
    return [str(path) for path in root.rglob("*") if path.is_file()]


async def test_what_is_refused_leaves_nothing_behind(inbound: Inbound) -> None:
    flows = inbound.flows
    too_big = mail("big@example.com", inbound.address(), body="x" * 300_000)
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as announced:  # its SIZE= said so
        await inbound.send(too_big, "big@example.com")
    assert announced.value.code == 552
    async with aiosmtplib.SMTP(hostname=LOOPBACK, port=inbound.port) as client:
        await client.mail("big@example.com")  # no SIZE: refused once the data passes the limit
        await client.rcpt(inbound.address())
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.data(too_big.as_bytes())
    assert refused.value.code == 552

    no_sender = b"To: sales@x\r\nSubject: who?\r\n\r\nno From header\r\n"
    with pytest.raises(aiosmtplib.SMTPDataError) as malformed:
        await inbound.send(no_sender, "anon@example.com")
    assert malformed.value.code == 550

    assert await InboundEmail.filter(agency_id=flows.agency_id).count() == 0
    assert await stored_files(flows) == []


async def test_recipients_past_the_limit_are_told_to_try_later(inbound: Inbound) -> None:
    four = [inbound.address(Mailbox.SUPPORT), *[f"SALES@{inbound.slug}.in.crm.test"] * 3]
    async with aiosmtplib.SMTP(hostname=LOOPBACK, port=inbound.port) as client:
        refused, _ = await client.sendmail(
            "c@example.com", four, mail("c@example.com", inbound.address()).as_bytes()
        )
    assert [response.code for response in refused.values()] == [452]
    (email,) = await inbound.processed()
    assert email.mailbox == Mailbox.SALES  # of the addresses taken, sales routes it


async def test_a_sender_over_its_rate_is_told_to_try_later(inbound: Inbound) -> None:
    for n in range(5):
        await inbound.send(
            mail("busy@example.com", inbound.address(), subject=f"{n}"), "busy@example.com"
        )
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as throttled:
        await inbound.send(mail("busy@example.com", inbound.address()), "busy@example.com")
    assert throttled.value.code == 451
    await inbound.send(mail("other@example.com", inbound.address()), "other@example.com")
    assert await InboundEmail.filter(agency_id=inbound.flows.agency_id).count() == 6


async def test_an_unsubscribe_reply_turns_off_the_kind_of_the_message_it_answers(
    inbound: Inbound,
) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["ada@example.com"])
    sent = await sent_to(flows, contact)  # the welcome: a sales message
    mailto = sent["List-Unsubscribe"].split(",")[1].strip().strip("<>")
    assert mailto == f"mailto:{sent['Reply-To']}?subject=unsubscribe"

    answer = mail("ada@example.com", sent["Reply-To"], subject="unsubscribe", body="")
    await inbound.send(answer, "ada@example.com", [sent["Reply-To"]])

    (email,) = await inbound.processed()
    assert (email.outcome, email.contact_id) == ("unsubscribe", contact.id)
    preferences = await get_preferences(flows.actor, "contact", contact.id)
    assert "sales" not in preferences.receives
    assert {"marketing", "greetings"} <= set(preferences.receives)
    (change,) = await ConsentChange.filter(agency_id=flows.agency_id)
    assert (change.source, change.opted_out) == ("reply", ["sales"])
    assert await received_events(flows, contact.id) == []  # not an answer to carry on with


async def test_a_reply_that_only_mentions_stopping_is_a_reply(inbound: Inbound) -> None:
    flows = inbound.flows
    contact = await flows.create_contact(emails=["ada@example.com"])
    sent = await sent_to(flows, contact)

    body = "Please stop by our office on Tuesday instead."
    await inbound.send(
        mail("ada@example.com", sent["Reply-To"], subject="Re: Welcome", body=body),
        "ada@example.com",
        [sent["Reply-To"]],
    )

    (email,) = await inbound.processed()
    assert email.outcome == "reply"
    assert "sales" in (await get_preferences(flows.actor, "contact", contact.id)).receives


async def test_a_lead_assignee_who_has_left_is_replaced_by_a_sales_person(
    inbound: Inbound,
) -> None:
    flows = inbound.flows
    leaver = await User.create(
        agency_id=flows.agency_id,
        email=f"gone-{uuid.uuid4().hex[:6]}@example.com",
        name="Gone",
        password_hash="-",
        roles=["sales_person"],
        is_active=False,
    )
    await Agency.filter(id=flows.agency_id).update(lead_assignee=str(leaver.id))

    await inbound.send(mail("new@widgets.example", inbound.address()), "new@widgets.example")

    (email,) = await inbound.processed()
    lead = await Lead.get(id=email.lead_id)
    assert lead.owner_id == flows.owner_id  # the agency's active sales person
