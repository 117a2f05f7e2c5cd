"""Messages to contacts and customers: written down first, then sent if the person agreed.

One path for every sender (a flow step, a sales person's `sendMessage`, later broadcasts and
campaigns), in two halves:

* `queue_message` renders the message (a published template version, or free text) for one
  record and stores it, `queued`, under an idempotency key: a retried flow step or a resent
  broadcast batch finds its row instead of adding one. The row is the proof of what was said:
  the template and version, the text, the recipients, who asked.
* `deliver_message` runs inside the sending activity. It asks `message_preferences.refusal`
  *then* (a consent withdrawn after the message was queued still holds), adds the agency's
  footer and, for everything but transactional messages, the unsubscribe link and the RFC 8058
  `List-Unsubscribe` headers, and hands it to SMTP through `domain.emails` (at most once per
  message). The outcome is stored with an event on the record's timeline: `sent`, `skipped`
  with the reason, or `failed` when the server refused it for good; a refused address is
  remembered as undeliverable (a hard bounce). A server that is away raises, and the
  activity is retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from markupsafe import escape
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.emails import SentEmail
from db.messages import Message as Message
from db.messages import MessageAttachment
from domain import emails
from domain.actors import Actor
from domain.attachments import check_readable
from domain.emails import CalendarPart, FileAttachment, SmtpConfig, storable_key
from domain.errors import DomainError, input_errors
from domain.events import append_event
from domain.field_types import input_codes
from domain.inbound_addresses import reply_address
from domain.message_preferences import mark_undeliverable, refusal
from domain.message_rendering import MAX_LENGTHS, TemplateParts, render
from domain.message_templates import (
    RECIPIENT_TYPES,
    MessageTemplate,
    MessageTemplateVersion,
    TemplateKind,
    TemplateStatus,
    parts_of,
    recipient_variables,
)
from domain.metrics import MESSAGES
from domain.outbox import OutboxKind, enqueue
from domain.policies import require
from domain.roles import Access, Resource
from domain.signed_links import LinkConfig, LinkPurpose, sign
from domain.unsubscribe_links import link_token

AGGREGATE = "message"
MAX_RECIPIENTS = 20


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


class MessageErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND"
    NOT_PUBLISHED = "NOT_PUBLISHED"
    NO_ADDRESS = "NO_ADDRESS"
    UNKNOWN_RECORD_TYPE = "UNKNOWN_RECORD_TYPE"


_CODES = input_codes(MessageErrorCode)


@dataclass(frozen=True)
class MessageRequest:
    """One message to one record: a template's key, or `text` (subject and body) as written.

    `recipients` are fixed addresses (a flow's `to: someone@...`); without them the message
    goes to the record's own address and the record's consent applies.
    """

    record_type: str
    record_id: str
    idempotency_key: str
    source: str
    template_key: str = ""
    text: TemplateParts | None = None
    kind: TemplateKind = TemplateKind.SALES
    recipients: list[str] = field(default_factory=list)
    to_record: bool = True
    # A meeting invitation's iCalendar object, sent as a `text/calendar` part.
    calendar: CalendarPart | None = None
    # A signed link to a public page the delivery adds: (purpose, subject id).
    page_link: tuple[LinkPurpose, str] | None = None
    # A stored file sent with it (`MessageAttachment`, a scheduled report's).
    attachment_id: int | None = None


class FreeText(BaseModel):
    """A one-off message a person writes: sent as written, no template syntax."""

    model_config = ConfigDict(extra="forbid")

    subject: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LENGTHS["subject"]),
    ]
    body: Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTHS["text_body"])]


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def _published(agency_id: UUID, key: str) -> tuple[MessageTemplate, MessageTemplateVersion]:
    template = await MessageTemplate.get_or_none(agency_id=agency_id, key=key)
    if template is None:
        raise DomainError(
            MessageErrorCode.TEMPLATE_NOT_FOUND, f"No template with key {key!r}.", "template"
        )
    version = await MessageTemplateVersion.get_or_none(
        template_id=template.id, status=TemplateStatus.PUBLISHED
    )
    if version is None:
        raise DomainError(
            MessageErrorCode.NOT_PUBLISHED,
            f"Template {key!r} has no published version.",
            "template",
        )
    return template, version


async def queue_message(
    actor: Actor, request: MessageRequest, conn: BaseDBAsyncClient | None = None
) -> tuple[Message, bool]:
    """Render and store the message (once per key); whether this call created it."""
    existing = await Message.get_or_none(idempotency_key=request.idempotency_key)
    if existing is not None:
        return existing, False
    if request.record_type not in RECIPIENT_TYPES and request.to_record:
        raise DomainError(
            MessageErrorCode.UNKNOWN_RECORD_TYPE,
            f"Messages go to a {' or a '.join(RECIPIENT_TYPES)}.",
            "record_id",
        )
    template_version: int | None = None
    kind = request.kind
    variables: dict[str, dict[str, Any]] = {}
    if request.to_record or request.template_key:
        variables = await recipient_variables(actor, request.record_type, UUID(request.record_id))
    if request.template_key:
        template, version = await _published(actor.agency_id, request.template_key)
        rendered = render(parts_of(version), variables)
        subject, text_body, html_body = rendered.subject, rendered.text_body, rendered.html_body
        kind, template_version = TemplateKind(template.kind), version.version
    elif request.text is not None:
        subject, text_body, html_body = (
            _one_line(request.text.subject),
            request.text.text_body,
            request.text.html_body,
        )
    else:
        raise DomainError(MessageErrorCode.REQUIRED, "A template or a text is needed.", "template")
    recipients = list(request.recipients)
    if not recipients and request.to_record:
        address = variables["recipient"].get("email", "")
        recipients = [address] if address else []
    values: dict[str, Any] = {
        "agency_id": actor.agency_id,
        "record_type": request.record_type,
        "record_id": request.record_id,
        "kind": kind,
        "template_key": request.template_key,
        "template_version": template_version,
        "recipients": recipients[:MAX_RECIPIENTS],
        "to_record": request.to_record,
        "subject": subject[: MAX_LENGTHS["subject"]],
        "text_body": text_body,
        "html_body": html_body,
        "idempotency_key": request.idempotency_key,
        "calendar": request.calendar.text if request.calendar else "",
        "calendar_method": request.calendar.method if request.calendar else "",
        "page_link": ":".join(request.page_link) if request.page_link else "",
        "attachment_id": request.attachment_id,
        "source": request.source[:255],
        "created_by": actor.id,
    }
    try:
        return await Message.create(using_db=conn, **values), True
    except IntegrityError:
        if conn is not None:
            raise
        return await Message.get(idempotency_key=request.idempotency_key), False


def delivery_workflow_id(message: Message) -> str:
    return f"message-{message.agency_id}-{message.id}"


async def queue_for_delivery(
    actor: Actor, request: MessageRequest, conn: BaseDBAsyncClient
) -> Message:
    """Queue the message and its delivery (a `DeliverMessage` run, through the outbox) in the
    caller's transaction: the message exists, and will be sent, if and only if it commits."""
    message, created = await queue_message(actor, request, conn)
    if created and message.recipients:
        await enqueue(
            actor.agency_id,
            OutboxKind.DELIVER_MESSAGE,
            delivery_workflow_id(message),
            {"message_id": message.id},
            conn,
        )
    return message


async def send_message(
    actor: Actor, record_type: str, record_id: UUID, data: dict[str, Any]
) -> Message:
    """A person's one-off message to a contact or customer they can see: a template (`template`)
    or free text (`subject`, `body`). Queued with its delivery in one transaction."""
    require(actor, Resource.TEMPLATES, Access.READ)
    if record_type not in RECIPIENT_TYPES:
        raise DomainError(
            MessageErrorCode.UNKNOWN_RECORD_TYPE,
            f"Messages go to a {' or a '.join(RECIPIENT_TYPES)}.",
            "record_id",
        )
    await check_readable(actor, record_type, record_id, MessageErrorCode)
    template_key = (data.get("template") or "").strip()
    text: TemplateParts | None = None
    if not template_key:
        try:
            free = FreeText.model_validate(
                {"subject": data.get("subject") or "", "body": data.get("body") or ""}
            )
        except ValidationError as exc:
            raise input_errors(exc, _CODES, MessageErrorCode.INVALID) from exc
        text = TemplateParts(free.subject, free.body)
    elif data.get("subject") or data.get("body"):
        raise DomainError(
            MessageErrorCode.INVALID, "Give a template or a subject and body, not both.", "template"
        )
    # The caller's own key space: another person's key can never return their message.
    key = data.get("idempotency_key") or f"at:{datetime.now(UTC).isoformat()}"
    request = MessageRequest(
        record_type=record_type,
        record_id=str(record_id),
        idempotency_key=storable_key(f"{actor.agency_id}:{actor.id}:{key}"),
        source=f"user:{actor.user_id}" if actor.user_id else actor.id,
        template_key=template_key,
        text=text,
    )
    async with in_transaction() as conn:
        message = await queue_for_delivery(actor, request, conn)
        if not message.recipients:
            raise DomainError(
                MessageErrorCode.NO_ADDRESS, f"The {record_type} has no email address.", "record_id"
            )
    return message


async def get_message(actor: Actor, message_id: int) -> Message:
    """A message to a record the actor may read (NOT_FOUND otherwise, whatever the reason)."""
    require(actor, Resource.TEMPLATES, Access.READ)
    message = await Message.get_or_none(id=message_id, agency_id=actor.agency_id)
    if message is None or message.record_type not in RECIPIENT_TYPES:
        raise DomainError(MessageErrorCode.NOT_FOUND, f"No message with id {message_id}.", "id")
    try:
        await check_readable(actor, message.record_type, UUID(message.record_id), MessageErrorCode)
    except DomainError as exc:
        raise DomainError(
            MessageErrorCode.NOT_FOUND, f"No message with id {message_id}.", "id"
        ) from exc
    return message


# --- delivery (inside the sending activity) --------------------------------------------------


def _postal_lines(agency: Agency) -> list[str]:
    city = " ".join(part for part in (agency.postal_code, agency.city) if part)
    return [line for line in (agency.street, city, agency.region, agency.country) if line]


# What a page link says in the message, by purpose.
PAGE_LINK_LABELS = {
    LinkPurpose.BOOKING: "Pick the time that suits you",
    LinkPurpose.PASSWORD_RESET: "Choose a new password",
    LinkPurpose.SURVEY: "Tell us how we did",
    LinkPurpose.PORTAL_SIGN_IN: "Sign in to the support portal",
}


def _page_link(links: LinkConfig, message: Message) -> tuple[str, str]:
    """The message's page link (signed now, never stored) as text and HTML; empty if none."""
    if not message.page_link:
        return "", ""
    purpose_name, _, subject = message.page_link.partition(":")
    purpose = LinkPurpose(purpose_name)
    url = links.page_url(sign(links, purpose, subject), purpose)
    label = PAGE_LINK_LABELS.get(purpose, "Open")
    return f"\n\n{label}: {url}\n", f'<p><a href="{escape(url)}">{escape(label)}</a></p>'


def _footer(agency: Agency, unsubscribe_url: str, logo_url: str) -> tuple[str, str]:
    """The agency's name, logo and postal address, and the unsubscribe link (none for service
    mail)."""
    lines = [agency.name, ", ".join(_postal_lines(agency))]
    text = "\n".join(["", "-- ", *[line for line in lines if line]])
    html_lines = [str(escape(line)) for line in lines if line]
    if logo_url:
        html_lines.insert(
            0, f'<img src="{escape(logo_url)}" alt="{escape(agency.name)}" height="48">'
        )
    if unsubscribe_url:
        text += f"\nUnsubscribe or choose what you receive: {unsubscribe_url}\n"
        html_lines.append(
            f'<a href="{escape(unsubscribe_url)}">Unsubscribe or choose what you receive</a>'
        )
    html = '<hr><p style="font-size:12px;color:#666">' + "<br>".join(html_lines) + "</p>"
    return text, html


async def _conclude(
    message: Message, status: MessageStatus, reason: str = "", message_id: str = ""
) -> Message:
    """Store the outcome and announce it on the record, in one transaction."""
    async with in_transaction() as conn:
        message.status = status
        message.reason = reason[:500]
        message.message_id = message_id
        if status is MessageStatus.SENT:
            message.sent_at = datetime.now(UTC)
        await message.save(using_db=conn)
        # A skip's reason is a SkipReason; a failure's is the server's text: not a label.
        MESSAGES.labels(str(status), reason if status is MessageStatus.SKIPPED else "").inc()
        actor = Actor.system(message.agency_id, "messages")
        payload = {
            "record_type": message.record_type,
            "record_id": message.record_id,
            "kind": message.kind,
            "template": message.template_key,
            "template_version": message.template_version,
            "status": str(status),
            "reason": message.reason,
        }
        await append_event(actor, f"message.{status}", AGGREGATE, str(message.id), payload, conn)
    return message


async def deliver_message(smtp: SmtpConfig, links: LinkConfig, message_id: int) -> Message:
    """Send a queued message if its recipient still agrees; its row with the outcome.

    Raises what `domain.emails.send_email` raises for a failure worth retrying.
    """
    message = await Message.get(id=message_id)
    if message.status != MessageStatus.QUEUED:
        return message  # a retried activity after the outcome was stored
    key = f"message:{message.id}"
    handed_over = await SentEmail.get_or_none(idempotency_key=storable_key(key))
    if handed_over is not None:
        # Sent by an attempt that stopped before storing the outcome: consent was checked
        # then, and the message is out.
        return await _conclude(message, MessageStatus.SENT, message_id=handed_over.message_id)
    reason = await refusal(
        message.agency_id,
        message.record_type,
        message.record_id,
        message.kind,
        message.recipients,
        message.to_record,
    )
    if reason is not None:
        return await _conclude(message, MessageStatus.SKIPPED, str(reason))
    agency = await Agency.get(id=message.agency_id)
    headers: dict[str, str] = {}
    unsubscribe_url = ""
    if message.kind != TemplateKind.TRANSACTIONAL and message.to_record:
        unsubscribe_url = links.page_url(link_token(links, message.id))
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    reply_to = (
        reply_address(links, agency.slug, message.id)
        if message.record_type in (*RECIPIENT_TYPES, "ticket")
        else ""
    )
    if reply_to:
        # Answers come back to the CRM, threaded to this message (`domain.inbound_routing`);
        # an answer that says "unsubscribe" is one (RFC 2369's mailto form).
        headers["Reply-To"] = reply_to
        if unsubscribe_url:
            headers["List-Unsubscribe"] += f", <mailto:{reply_to}?subject=unsubscribe>"
    logo_url = links.logo_url(agency.logo_document_id) if agency.logo_document_id else ""
    text_footer, html_footer = _footer(agency, unsubscribe_url, logo_url)
    text_link, html_link = _page_link(links, message)
    html = message.html_body + html_link + html_footer if message.html_body else ""
    calendar = CalendarPart(message.calendar_method, message.calendar) if message.calendar else None
    attachments: list[FileAttachment] = []
    if message.attachment_id is not None:
        stored = await MessageAttachment.get(id=message.attachment_id)
        attachments.append(FileAttachment(stored.file_name, stored.content_type, stored.content))
    try:
        sent = await emails.send_email(
            smtp,
            key,
            message.recipients,
            message.subject,
            message.text_body + text_link + "\n" + text_footer,
            html,
            headers,
            calendar,
            attachments,
        )
    except emails.EmailRejected as rejected:
        if rejected.recipients:
            await mark_undeliverable(message.agency_id, rejected.recipients, str(rejected))
        return await _conclude(message, MessageStatus.FAILED, str(rejected))
    except ValueError as invalid:
        return await _conclude(message, MessageStatus.FAILED, str(invalid))
    return await _conclude(message, MessageStatus.SENT, message_id=sent.message_id)
