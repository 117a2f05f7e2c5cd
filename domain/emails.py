"""Outgoing email: send one message through SMTP at most once per idempotency key, as SMTP allows.

Why send-then-record (and not record-then-send)
-----------------------------------------------
SMTP has no idempotency of its own, so some crash window always remains; the choice is which
failure it produces.

* Record-then-send (commit a row, then talk SMTP): a crash or a network error after the commit
  and before the server's `250` leaves a row for a message that never left. The retry sees the
  row and skips: the customer silently never gets the email. For a CRM that is the worse
  failure, and nobody would notice it.
* Holding a database transaction open across the SMTP conversation (insert, send, commit)
  closes the window for concurrent attempts on PostgreSQL, but on SQLite (the embedded default)
  Tortoise serialises the whole connection behind a transaction lock: every query of the
  process would wait for the SMTP server. Rejected.
* Send-then-record (chosen): look the key up, send, then insert the row. A retry after a
  recorded send never sends again. The one window left is a crash between the server's `250`
  and the insert (milliseconds): the retry sends a second copy. That copy carries the *same*
  `Message-ID` (derived from the key), so mail clients and providers that collapse duplicates
  do, and it can be traced. Two attempts racing with the same key (a timed-out attempt still
  running while its retry starts) may both send; the later insert loses on the unique key and
  returns the first row.

To make the window visible rather than merely small, `sent_email` would need a `status`
(`sending` / `sent`) column; see the report that introduced this module.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, parseaddr

import aiosmtplib
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from tortoise.exceptions import IntegrityError

from db.emails import SentEmail
from domain import tracing

log = logging.getLogger(__name__)

# How messages are written on the wire: SMTP's line ends, and header lines up to SMTP's own
# limit (998), so a long header without spaces (`List-Unsubscribe: <https://...>`) stays
# literal instead of being folded into RFC 2047 encoded words mail clients would not parse.
WIRE_POLICY = policy.SMTP.clone(max_line_length=998)
MAX_KEY_LENGTH = 255  # `SentEmail.idempotency_key`
MAX_SUBJECT_LENGTH = 255  # `SentEmail.subject`


class SmtpConfig(BaseModel):
    """Where and as whom to send; the composition root builds it from the settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=25, gt=0, lt=65536)
    username: str = ""
    password: SecretStr = SecretStr("")
    # Implicit TLS (SMTPS, usually port 465). Without it STARTTLS is used when the server
    # offers it.
    use_tls: bool = False
    mail_from: str = Field(min_length=3)
    timeout_seconds: float = Field(default=30.0, gt=0)


class EmailRejected(Exception):
    """The SMTP server refused the message for good (a 5xx reply): retrying cannot help."""

    def __init__(self, code: int, reply: str, recipients: Sequence[str] = ()) -> None:
        super().__init__(f"SMTP server rejected the message: {code} {reply}")
        self.code = code
        self.reply = reply
        # The addresses refused (a hard bounce); empty when the message itself was refused.
        self.recipients = list(recipients)


@dataclass(frozen=True)
class FileAttachment:
    """A file sent with an email (`Content-Disposition: attachment`)."""

    file_name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class CalendarPart:
    """An iCalendar object sent with an email (iMIP, RFC 6047): its METHOD and its text."""

    method: str
    text: str


def storable_key(idempotency_key: str) -> str:
    """The key as stored: itself when it fits the column, else a digest of it."""
    if not idempotency_key:
        raise ValueError("idempotency_key must not be empty")
    if len(idempotency_key) <= MAX_KEY_LENGTH:
        return idempotency_key
    return "sha256:" + hashlib.sha256(idempotency_key.encode()).hexdigest()


def message_id_for(idempotency_key: str, mail_from: str) -> str:
    """A `Message-ID` that is the same for every attempt with the same key."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "crm.invalid"
    return f"<{digest}@{domain}>"


def compose_email(
    smtp: SmtpConfig,
    idempotency_key: str,
    to: Sequence[str],
    subject: str,
    body: str,
    html: str = "",
    headers: Mapping[str, str] | None = None,
    calendar: CalendarPart | None = None,
    attachments: Sequence[FileAttachment] = (),
) -> EmailMessage:
    """The message as sent: plain text, or text and HTML as alternatives when `html` is given;
    a calendar part (`text/calendar; method=...`) is one more alternative, the one calendar
    clients act on. Attachments make it multipart/mixed around those alternatives.

    Header values with line breaks raise `ValueError` (no injection).
    """
    message = EmailMessage()
    message["From"] = smtp.mail_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id_for(idempotency_key, smtp.mail_from)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    if calendar is not None:
        message.add_alternative(
            calendar.text, subtype="calendar", params={"method": calendar.method}
        )
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.file_name,
        )
    return message


def envelope_recipients(to: Sequence[str]) -> list[str]:
    """The bare addresses of `to`, which holds one address per entry (display names allowed).

    Raises `ValueError` if `to` is empty or an entry is not exactly one address.
    """
    if not to:
        raise ValueError("an email needs at least one recipient")
    addresses = []
    for entry in to:
        parsed = getaddresses([entry])
        if len(parsed) != 1 or "@" not in parsed[0][1]:
            raise ValueError(f"not one email address: {entry!r}")
        addresses.append(parsed[0][1])
    return addresses


async def send_email(
    smtp: SmtpConfig,
    idempotency_key: str,
    to: Sequence[str],
    subject: str,
    body: str,
    html: str = "",
    headers: Mapping[str, str] | None = None,
    calendar: CalendarPart | None = None,
    attachments: Sequence[FileAttachment] = (),
) -> SentEmail:
    """Send one email (`compose_email`) unless `idempotency_key` was sent; return the record.

    Raises `ValueError` for input that can never be sent, `EmailRejected` when the server
    refuses it permanently, and aiosmtplib's errors for anything worth retrying (connection
    refused, timeouts, 4xx replies). Do not call it inside a database transaction: the send
    cannot be rolled back, and a failed insert would poison the transaction on PostgreSQL.
    """
    key = storable_key(idempotency_key)
    recipients = envelope_recipients(to)

    already_sent = await SentEmail.get_or_none(idempotency_key=key)
    if already_sent is not None:
        log.info("email %s already sent as %s; not sending again", key, already_sent.message_id)
        return already_sent

    message = compose_email(
        smtp, idempotency_key, to, subject, body, html, headers, calendar, attachments
    )
    with tracing.span(
        "smtp send", SpanKind.CLIENT, {"server.address": smtp.host, "server.port": smtp.port}
    ):
        accepted = await _hand_to_smtp(smtp, message, recipients)
    try:
        return await SentEmail.create(
            idempotency_key=key,
            recipients=accepted,
            subject=subject[:MAX_SUBJECT_LENGTH],
            message_id=message["Message-ID"],
        )
    except IntegrityError:
        # Another attempt with the same key sent and recorded first (see the module docstring).
        log.warning("email %s was sent by two concurrent attempts", key)
        return await SentEmail.get(idempotency_key=key)


async def _hand_to_smtp(
    smtp: SmtpConfig, message: EmailMessage, recipients: list[str]
) -> list[str]:
    """Send; return the recipients the server accepted."""
    try:
        refused, _reply = await aiosmtplib.send(
            message.as_bytes(policy=WIRE_POLICY),
            sender=parseaddr(smtp.mail_from)[1],
            recipients=recipients,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username or None,
            password=smtp.password.get_secret_value() or None,
            use_tls=smtp.use_tls,
            timeout=smtp.timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        if codes and all(_is_permanent(code) for code in codes):
            addresses = [refusal.recipient for refusal in exc.recipients]
            raise EmailRejected(codes[0], str(exc), addresses) from exc
        raise
    except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPDataError) as exc:
        if _is_permanent(exc.code):
            raise EmailRejected(exc.code, exc.message) from exc
        raise
    if refused:
        log.warning("SMTP server refused some recipients: %s", refused)
    return [address for address in recipients if address not in refused]


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600
