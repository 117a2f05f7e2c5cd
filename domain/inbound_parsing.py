"""Reading a received message: who wrote it, what is new in it, what it carries, and whether
a person wrote it at all.

Parsed with Python's `email` package (`policy.default`). The text comes from the plain part,
or from the HTML part turned into text (inscriptis: nothing of the HTML is kept, so nothing
of it is ever rendered). The reply text is that text without the quoted history
(email-reply-parser) and without the signature (the `-- ` line, or the lines after a closing
such as "Best regards,"); the signature is read for a name, a company and a phone when the
sender is new. Auto-replies (RFC 3834 `Auto-Submitted`, the headers mail servers add to
out-of-office answers) and delivery reports (RFC 3464) are told apart from people's mail.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser

import phonenumbers
from email_reply_parser import EmailReplyParser
from inscriptis import get_text

MAX_SUBJECT = 255
MAX_NAME = 200
MAX_TEXT = 100_000
MAX_ATTACHMENTS = 20
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_SIGNATURE_DELIMITER = re.compile(r"^--\s?$")
_CLOSING = re.compile(
    r"^(best|kind|warm|many thanks|thanks|thank you|regards|best regards|kind regards|"
    r"warm regards|cheers|sincerely|yours sincerely|yours truly|all the best)[,.!]?$",
    re.IGNORECASE,
)
_SENT_FROM = re.compile(r"^sent from my ", re.IGNORECASE)
# What people write to stop mail: the whole reply, or its subject (a mailto: List-Unsubscribe).
_UNSUBSCRIBE = re.compile(
    r"^(unsubscribe( me)?|stop( all)?|remove me|opt[ -]?out|please unsubscribe( me)?)[.!]*$",
    re.IGNORECASE,
)
_REPLY_PREFIX = re.compile(r"^((re|aw|sv|fw|fwd)\s*:\s*)+", re.IGNORECASE)
_PHONE = re.compile(r"(\+?\d[\d\s().-]{6,}\d)")
_COMPANY = re.compile(
    r"\b(ltd|limited|llc|inc|corp|corporation|gmbh|ag|s\.?a\.?|b\.?v\.?|plc|co\.|company|"
    r"group|pty|oy|ab|srl|sarl)\b\.?",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|autoreply|"
    r"abwesenheitsnotiz|auto:)",
    re.IGNORECASE,
)
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "ne"})
_AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk", "list"})
# Addresses at these domains are people's own: their domain names no company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
    }
)


class MalformedEmail(ValueError):
    """Not a message the CRM can read: refused, and nothing of it kept."""


@dataclass(frozen=True, slots=True)
class Attachment:
    file_name: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Signature:
    """What a new sender's signature (and address) tell about them."""

    name: str = ""
    company: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    # The Message-IDs it answers: In-Reply-To first, then References, newest first.
    answers: list[str]
    text: str
    reply_text: str
    signature: Signature
    attachments: list[Attachment] = field(default_factory=list)
    auto_reply: bool = False
    delivery_report: bool = False
    # The reply asks to stop mail ("unsubscribe", "stop", as its text or its subject).
    unsubscribe: bool = False
    # Recipients a delivery report says failed for good (5.x.x).
    bounced: list[str] = field(default_factory=list)
    authentication_results: str = ""


def normalised_address(address: str) -> str:
    return address.strip().lower()


def _message(raw: bytes) -> EmailMessage:
    message = BytesParser(_class=EmailMessage, policy=policy.default).parsebytes(raw)
    if not message.keys():
        raise MalformedEmail("The message has no headers.")
    return message


def sender(message: EmailMessage) -> tuple[str, str]:
    try:
        header = message["From"]
        addresses: tuple[Address, ...] = header.addresses if header is not None else ()
    except (IndexError, ValueError, AttributeError) as exc:
        raise MalformedEmail("The From header cannot be read.") from exc
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise MalformedEmail("The message must have one From address.")
    found = addresses[0]
    return normalised_address(found.addr_spec), found.display_name.strip()[:MAX_NAME]


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (IndexError, ValueError):
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def message_id_of(message: EmailMessage, raw: bytes) -> str:
    """The Message-ID without its brackets; without one, a digest of the bytes (the same
    message delivered twice is still one)."""
    found = _MESSAGE_ID.search(_header(message, "Message-ID"))
    if found is not None:
        return found.group(1)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _answers(message: EmailMessage) -> list[str]:
    ids = _MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    ids += reversed(_MESSAGE_ID.findall(_header(message, "References")))
    return list(dict.fromkeys(ids))[:50]


def _decoded(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if not isinstance(body, EmailMessage):
        return ""
    content = _decoded(body)
    if body.get_content_subtype() == "html":
        content = get_text(content)
    return content.replace("\r\n", "\n")[:MAX_TEXT].strip()


def _split_signature(text: str) -> tuple[str, list[str]]:
    """The reply without its signature, and the signature's lines."""
    lines = [line.rstrip() for line in text.split("\n") if not _SENT_FROM.match(line.strip())]
    for index, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line):
            return "\n".join(lines[:index]).strip(), _signature_lines(lines[index + 1 :])
    for index in range(len(lines) - 1, max(len(lines) - 10, -1), -1):
        if _CLOSING.match(lines[index].strip()):
            return "\n".join(lines[:index]).strip(), _signature_lines(lines[index + 1 :])
    return "\n".join(lines).strip(), []


def _signature_lines(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines if line.strip()][:10]


def _phone(lines: list[str]) -> str:
    for line in lines:
        for candidate in _PHONE.findall(line):
            try:
                number = phonenumbers.parse(candidate, None)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ""


def _company_of_domain(address: str) -> str:
    domain = address.rpartition("@")[2]
    if domain in FREE_MAIL_DOMAINS:
        return ""
    labels = domain.split(".")
    if len(labels) < 2:
        return ""
    # The label before the public suffix: acme.com, sales.acme.com, acme.co.uk -> acme
    country_second_level = len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL
    name = labels[-3] if len(labels) >= 3 and country_second_level else labels[-2]
    return " ".join(part.capitalize() for part in re.split(r"[-_]", name) if part)[:MAX_NAME]


def _signature(lines: list[str], from_name: str, from_address: str) -> Signature:
    text_lines = [line for line in lines if "@" not in line and not _PHONE.search(line)]
    name = from_name or (text_lines[0] if text_lines else "")
    company = ""
    for line in text_lines:
        if _COMPANY.search(line):
            # "Head of Purchasing, Widgets Ltd" -> "Widgets Ltd"
            company = line.rsplit(",", 1)[-1].strip()
            break
    return Signature(
        name=name[:MAX_NAME],
        company=(company or _company_of_domain(from_address))[:MAX_NAME],
        phone=_phone(lines),
    )


def _is_auto_reply(message: EmailMessage, subject: str) -> bool:
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    if _header(message, "Precedence").lower() in _AUTO_PRECEDENCE:
        return True
    return bool(_AUTO_SUBJECT.match(subject))


def _bounced(message: EmailMessage) -> tuple[bool, list[str]]:
    """Whether it is a delivery report, and the recipients it says failed for good."""
    is_report = (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )
    if not is_report:
        return False, []
    failed: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            action = _header(block, "Action").lower()
            status = _header(block, "Status")
            recipient = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
            address = recipient.partition(";")[2].strip() or recipient
            if action == "failed" and status.startswith("5") and "@" in address:
                failed.append(normalised_address(address.strip("<>")))
    return True, list(dict.fromkeys(failed))


def _attachments(message: EmailMessage) -> list[Attachment]:
    found: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart() or not isinstance(part, EmailMessage):
            continue
        disposition = part.get_content_disposition()
        file_name = part.get_filename()
        if disposition != "attachment" and not (disposition == "inline" and file_name):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        found.append(Attachment(file_name or "attachment", part.get_content_type(), payload))
        if len(found) == MAX_ATTACHMENTS:
            break
    return found


def asks_to_unsubscribe(subject: str, reply_text: str) -> bool:
    """Whether the whole new text, or else the subject, is a request to stop mail."""
    words = " ".join(reply_text.split())
    if words:
        return bool(_UNSUBSCRIBE.match(words))
    return bool(_UNSUBSCRIBE.match(_REPLY_PREFIX.sub("", subject).strip()))


def parse_headers(raw: bytes) -> EmailMessage:
    """The message, if it can be read at all (`MalformedEmail` if not): what the intake
    checks before storing anything."""
    message = _message(raw)
    sender(message)
    return message


def parse(raw: bytes) -> ParsedEmail:
    """Everything the routing needs to know of a received message."""
    message = _message(raw)
    from_address, from_name = sender(message)
    subject = _header(message, "Subject")[:MAX_SUBJECT]
    delivery_report, bounced = _bounced(message)
    text = _text(message)
    reply, signature_lines = _split_signature(EmailReplyParser.parse_reply(text) if text else "")
    return ParsedEmail(
        message_id=message_id_of(message, raw),
        from_address=from_address,
        from_name=from_name,
        subject=subject,
        answers=_answers(message),
        text=text,
        reply_text=reply,
        signature=_signature(signature_lines, from_name, from_address),
        attachments=[] if delivery_report else _attachments(message),
        auto_reply=not delivery_report and _is_auto_reply(message, subject),
        unsubscribe=asks_to_unsubscribe(subject, reply),
        delivery_report=delivery_report,
        bounced=bounced,
        authentication_results=_header(message, "Authentication-Results")[:2_000],
    )
