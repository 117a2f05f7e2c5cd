"""The sending path against a real SMTP server: templates rendered and recorded, consent
checked when sent (not when queued), unsubscribe headers and the agency's footer, bounces
remembered, retries that never send twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
import pytest
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.contacts import Contact
from domain import contacts, emails, message_templates
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.message_kinds import TemplateKind
from domain.message_preferences import (
    ConsentChange,
    ConsentSource,
    UndeliverableAddress,
    save_preferences,
    update_preferences,
)
from domain.message_rendering import TemplateParts
from domain.messages import (
    Message,
    MessageRequest,
    MessageStatus,
    deliver_message,
    queue_message,
    send_message,
)
from domain.unsubscribe_links import message_of
from tests.fixtures.messaging import TEST_LINKS, unsubscribe_link
from tests.fixtures.smtp import SmtpServer, free_port

pytestmark = pytest.mark.usefixtures("db")


@dataclass
class Sender:
    actor: Actor
    contact: Contact


async def a_sender(name: str = "Ada", email: str = "ada@example.com") -> Sender:
    agency, admin, _ = await bootstrap_agency(
        "Acme Sales",
        f"acme-{uuid.uuid4().hex[:8]}",
        f"admin-{uuid.uuid4().hex[:6]}@acme.example.com",
        "Ann Admin",
        "long enough password",
    )
    await Agency.filter(id=agency.id).update(
        street="1 Fleet Street", city="London", postal_code="EC4Y 1AA", country="GB"
    )
    actor = Actor.system(agency.id, "test")
    contact = await contacts.create_contact(
        actor,
        {"first_name": name, "last_name": "Lovelace", "emails": [email], "owner_id": admin.id},
    )
    await message_templates.seed_default_templates(
        agency.id,
        [
            {
                "key": "spring-offer",
                "name": "Spring offer",
                "kind": "marketing",
                "subject": "Spring offer for {{ recipient.first_name }}",
                "text_body": "Hello {{ recipient.first_name }}, 20% off.",
                "html_body": "<p>Hello <b>{{ recipient.first_name }}</b>, 20% off.</p>",
            },
            {
                "key": "invoice",
                "name": "Invoice",
                "kind": "transactional",
                "subject": "Your invoice",
                "text_body": "Dear {{ recipient.full_name }}, your invoice is attached.",
            },
        ],
    )
    return Sender(actor, contact)


async def queued(sender: Sender, template: str = "spring-offer", key: str = "") -> Message:
    request = MessageRequest(
        record_type="contact",
        record_id=str(sender.contact.id),
        idempotency_key=key or uuid.uuid4().hex,
        source="test",
        template_key=template,
    )
    message, _ = await queue_message(sender.actor, request)
    return message


def only(smtp_server: SmtpServer) -> EmailMessage:
    assert len(smtp_server.messages) == 1, [m.message["Subject"] for m in smtp_server.messages]
    return smtp_server.messages[0].message


async def test_a_marketing_template_is_sent_with_unsubscribe_headers_and_the_agency_footer(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender()
    message = await queued(sender)

    delivered = await deliver_message(smtp_server.config(), TEST_LINKS, message.id)

    assert delivered.status == MessageStatus.SENT
    assert (delivered.template_key, delivered.template_version) == ("spring-offer", 1)
    sent = only(smtp_server)
    assert sent["Subject"] == "Spring offer for Ada"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_link(sent["List-Unsubscribe"])
    assert link.startswith("https://crm.test/unsubscribe/")
    # On the wire as written, one line: mail clients do not decode RFC 2047 words here. The
    # mailto: form is an answer to the message's reply address saying "unsubscribe".
    mailto = f"mailto:{sent['Reply-To']}?subject=unsubscribe"
    wire = f"\r\nList-Unsubscribe: <{link}>, <{mailto}>\r\n"
    assert wire.encode() in smtp_server.messages[0].raw
    assert message_of(TEST_LINKS, link.rsplit("/", 1)[1]) == message.id
    text = sent.get_body(("plain",))
    html = sent.get_body(("html",))
    assert text is not None
    assert html is not None
    text_content, html_content = text.get_content(), html.get_content()
    assert "Hello Ada, 20% off." in text_content
    assert "Acme Sales" in text_content
    assert "1 Fleet Street, EC4Y 1AA London, GB" in text_content
    assert link in text_content
    assert "<b>Ada</b>" in html_content
    assert "Acme Sales" in html_content
    assert delivered.message_id == sent["Message-ID"]


async def test_a_transactional_message_has_the_footer_but_no_unsubscribe_link(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender()
    await update_preferences(sender.actor, "contact", sender.contact.id, {"receives": []})
    message = await queued(sender, "invoice")

    delivered = await deliver_message(smtp_server.config(), TEST_LINKS, message.id)

    assert delivered.status == MessageStatus.SKIPPED, "an agent's opt-out covers every kind"
    await update_preferences(
        sender.actor, "contact", sender.contact.id, {"receives": ["transactional"]}
    )
    again = await queued(sender, "invoice")
    assert (await deliver_message(smtp_server.config(), TEST_LINKS, again.id)).status == "sent"
    sent = only(smtp_server)
    assert "List-Unsubscribe" not in sent
    assert "Acme Sales" in sent.get_content()
    assert "unsubscribe" not in sent.get_content().lower()


async def test_consent_withdrawn_after_queueing_is_honoured_when_sending(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender()
    message = await queued(sender)
    await update_preferences(
        sender.actor, "contact", sender.contact.id, {"receives": ["transactional", "sales"]}
    )

    delivered = await deliver_message(smtp_server.config(), TEST_LINKS, message.id)

    assert (delivered.status, delivered.reason) == ("skipped", "opted_out")
    assert smtp_server.messages == []
    [change] = await ConsentChange.filter(record_id=str(sender.contact.id))
    assert (change.opted_out, change.source) == (["greetings", "marketing"], "agent")


async def test_a_contact_named_script_is_escaped_in_html_and_kept_as_text_in_plain(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender(name="<script>alert(1)</script>")
    message = await queued(sender)

    await deliver_message(smtp_server.config(), TEST_LINKS, message.id)

    sent = only(smtp_server)
    html = sent.get_body(("html",))
    assert html is not None
    assert "<script>" not in html.get_content()
    assert "&lt;script&gt;" in html.get_content()


async def test_a_hard_bounce_fails_the_message_and_skips_the_address_afterwards(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender(email="gone@example.com")
    smtp_server.unknown_recipients.add("gone@example.com")
    first = await queued(sender)

    failed = await deliver_message(smtp_server.config(), TEST_LINKS, first.id)

    assert failed.status == MessageStatus.FAILED
    assert "550" in failed.reason
    bounced = await UndeliverableAddress.get(agency_id=sender.actor.agency_id)
    assert bounced.address == "gone@example.com"
    second = await queued(sender, "invoice")
    skipped = await deliver_message(smtp_server.config(), TEST_LINKS, second.id)
    assert (skipped.status, skipped.reason) == ("skipped", "undeliverable")
    assert smtp_server.messages == []


async def test_a_relay_that_is_away_leaves_the_message_queued_for_the_retry(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender()
    message = await queued(sender)
    away = smtp_server.config(port=free_port(), timeout_seconds=2)

    with pytest.raises((aiosmtplib.SMTPException, OSError)):
        await deliver_message(away, TEST_LINKS, message.id)
    assert (await Message.get(id=message.id)).status == MessageStatus.QUEUED

    delivered = await deliver_message(smtp_server.config(), TEST_LINKS, message.id)
    assert delivered.status == MessageStatus.SENT
    assert len(smtp_server.messages) == 1


async def test_queueing_and_delivering_again_with_the_same_key_sends_one_copy(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender()
    first = await queued(sender, key="flow-run-1:step-1")
    second = await queued(sender, key="flow-run-1:step-1")
    assert first.id == second.id

    await deliver_message(smtp_server.config(), TEST_LINKS, first.id)
    await deliver_message(smtp_server.config(), TEST_LINKS, first.id)

    assert len(smtp_server.messages) == 1
    assert await Message.filter(idempotency_key="flow-run-1:step-1").count() == 1


async def test_free_text_is_sent_as_written_without_template_syntax(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender()
    request = MessageRequest(
        record_type="contact",
        record_id=str(sender.contact.id),
        idempotency_key=uuid.uuid4().hex,
        source="test",
        text=TemplateParts("Hi {{ agency }}", "Literally {{ recipient.first_name }}"),
        kind=TemplateKind.SALES,
    )
    message, _ = await queue_message(sender.actor, request)

    await deliver_message(smtp_server.config(), TEST_LINKS, message.id)

    sent = only(smtp_server)
    assert sent["Subject"] == "Hi {{ agency }}"
    assert "Literally {{ recipient.first_name }}" in sent.get_content()


async def test_a_one_click_source_is_recorded_with_the_message() -> None:
    sender = await a_sender()
    message = await queued(sender)
    async with in_transaction() as conn:
        await save_preferences(
            sender.actor,
            "contact",
            str(sender.contact.id),
            {"opted_out_kinds": ["marketing"]},
            ConsentSource.ONE_CLICK,
            conn,
            message.id,
        )
    [change] = await ConsentChange.filter(record_id=str(sender.contact.id))
    assert (change.source, change.message_id, change.opted_out) == (
        "one_click",
        message.id,
        ["marketing"],
    )


async def test_the_agencys_logo_heads_the_html_footer(smtp_server: SmtpServer) -> None:
    sender = await a_sender()
    logo = uuid.uuid4()
    await Agency.filter(id=sender.actor.agency_id).update(logo_document_id=logo)
    message = await queued(sender)

    await deliver_message(smtp_server.config(), TEST_LINKS, message.id)

    html = only(smtp_server).get_body(("html",))
    assert html is not None
    assert f'<img src="https://crm.test/logos/{logo}" alt="Acme Sales"' in html.get_content()


async def test_a_message_out_before_its_outcome_was_stored_is_not_called_skipped_later(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender()
    message = await queued(sender)
    # An earlier attempt handed it to SMTP (its key recorded), then stopped.
    await emails.send_email(
        smtp_server.config(), f"message:{message.id}", message.recipients, "Hi", "Hello"
    )
    await update_preferences(sender.actor, "contact", sender.contact.id, {"receives": []})

    delivered = await deliver_message(smtp_server.config(), TEST_LINKS, message.id)

    assert delivered.status == MessageStatus.SENT
    assert delivered.message_id == smtp_server.messages[0].message["Message-ID"]
    assert len(smtp_server.messages) == 1


async def test_one_persons_idempotency_key_never_returns_anothers_message(
    smtp_server: SmtpServer,
) -> None:
    sender = await a_sender()
    one = Actor(agency_id=sender.actor.agency_id, id="user:one", roles=sender.actor.roles)
    two = Actor(agency_id=sender.actor.agency_id, id="user:two", roles=sender.actor.roles)
    data = {"subject": "Hi", "body": "Hello", "idempotency_key": "k-1"}

    first = await send_message(one, "contact", sender.contact.id, data)
    again = await send_message(one, "contact", sender.contact.id, data)
    other = await send_message(two, "contact", sender.contact.id, data)

    assert first.id == again.id
    assert other.id != first.id
