"""Reading received mail: the new text of a reply, the sender's signature, auto-replies and
delivery reports, and what cannot be read at all."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from domain.inbound_parsing import MalformedEmail, parse

REPLY = """Tuesday at ten works for me.

Kind regards,
Jane Doe
Head of Purchasing, Widgets Ltd
Tel. +44 20 7946 0958

On Mon, 7 Dec 2026 at 10:00, Olive <reply+m1-abc@acme.in.crm.test> wrote:
> Hello Jane,
> would Tuesday suit you?
"""


def message(body: str = REPLY, html: str = "", **headers: str) -> bytes:
    email = EmailMessage()
    email["From"] = headers.pop("From", "Jane Doe <jane@widgets.example>")
    email["To"] = "sales@acme.in.crm.test"
    email["Subject"] = headers.pop("Subject", "Re: Tuesday")
    for name, value in headers.items():
        email[name.replace("_", "-")] = value
    email.set_content(body)
    if html:
        email.add_alternative(html, subtype="html")
    return email.as_bytes()


def test_the_reply_text_leaves_out_the_quoted_history_and_the_signature() -> None:
    parsed = parse(message())

    assert parsed.reply_text == "Tuesday at ten works for me."
    assert "would Tuesday suit you" in parsed.text
    assert (parsed.from_address, parsed.from_name) == ("jane@widgets.example", "Jane Doe")
    assert parsed.signature.company == "Widgets Ltd"
    assert parsed.signature.phone == "+442079460958"
    assert not parsed.auto_reply
    assert not parsed.delivery_report


def test_a_dash_dash_line_starts_the_signature() -> None:
    parsed = parse(message("Sure, send it.\n-- \nMax Mustermann\nMustermann GmbH\n"))

    assert parsed.reply_text == "Sure, send it."
    assert parsed.signature.company == "Mustermann GmbH"


def test_an_html_only_message_is_read_as_text_and_nothing_of_its_html_is_kept() -> None:
    email = EmailMessage()
    email["From"] = "max@tools.example"
    email["Subject"] = "Offer"
    email.set_content(
        "<p>Hello <b>there</b></p><script>alert(1)</script><p>Second line</p>", subtype="html"
    )

    parsed = parse(email.as_bytes())

    assert "Hello there" in parsed.text
    assert "Second line" in parsed.text
    assert "<" not in parsed.text
    assert "alert" not in parsed.text


@pytest.mark.parametrize(
    ("address", "company"),
    [
        ("jane@widgets.example", "Widgets"),
        ("jane@sales.acme-tools.com", "Acme Tools"),
        ("jane@acme.co.uk", "Acme"),
        ("jane@gmail.com", ""),
    ],
)
def test_without_a_company_line_the_company_comes_from_the_domain_unless_free_mail(
    address: str, company: str
) -> None:
    parsed = parse(message("Hi, call me.", From=address))

    assert parsed.signature.company == company


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto_Submitted": "auto-replied"},
        {"X_Autoreply": "yes"},
        {"Precedence": "auto_reply"},
        {"Subject": "Out of Office: Re: Tuesday"},
        {"Subject": "Automatic reply: Offer"},
    ],
)
def test_auto_replies_are_recognised(headers: dict[str, str]) -> None:
    assert parse(message("I am away.", **headers)).auto_reply


def test_auto_submitted_no_is_a_person() -> None:
    assert not parse(message("Hello", Auto_Submitted="no")).auto_reply


def test_a_delivery_report_names_the_recipients_that_failed_for_good() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example\r\n"
        b"Subject: Undelivered\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example\r\n\r\n"
        b"Final-Recipient: rfc822; Gone@Example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"Final-Recipient: rfc822; later@example.com\r\nAction: delayed\r\nStatus: 4.4.1\r\n"
        b"--B--\r\n"
    )

    parsed = parse(raw)

    assert parsed.delivery_report
    assert not parsed.auto_reply
    assert parsed.bounced == ["gone@example.com"]


def test_the_message_id_and_what_it_answers_are_read_without_brackets() -> None:
    parsed = parse(
        message(
            "Yes",
            Message_ID="<abc@widgets.example>",
            In_Reply_To="<one@crm.test>",
            References="<zero@crm.test> <one@crm.test>",
            Authentication_Results="mx.example; spf=pass smtp.mailfrom=widgets.example",
        )
    )

    assert parsed.message_id == "abc@widgets.example"
    assert parsed.answers == ["one@crm.test", "zero@crm.test"]
    assert parsed.authentication_results.startswith("mx.example; spf=pass")


def test_without_a_message_id_the_digest_of_the_bytes_names_it() -> None:
    raw = message("Same")
    assert parse(raw).message_id == parse(raw).message_id
    assert parse(raw).message_id.startswith("sha256:")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"just some bytes without headers",
        b"Subject: no sender\r\n\r\nbody\r\n",
        b"From: two@a.example, people@b.example\r\n\r\nbody\r\n",
        b"From: not an address\r\n\r\nbody\r\n",
    ],
)
def test_what_has_no_single_sender_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedEmail):
        parse(raw)
