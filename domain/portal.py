"""The customer portal: a customer's contacts sign in with an emailed one-time link and follow
their customer's tickets, reply to them, open new ones, and read the published public
knowledge base articles. Nothing else.

Signing in. A contact asks for a link with their address on their agency's portal. The
answer is the same whether or not the address belongs to a contact of a customer, in the
same least time (`PortalLimits.answer_floor`); only a known one gets a mail, through the one
sending path (transactional, on nobody's timeline). The mail's link (`domain.signed_links`,
purpose `portal_sign_in`, signed at send time, 15 minutes by default) names a
`portal_sign_in` row and works once: using it opens the session, whose token (purpose
`portal_session`, 8 hours by default) names the same row. Requests are rate limited per
address asked for and per client address (`domain.rate_limits`, counted in the database so
every API process counts together); a throttled request is refused alike for known and
unknown addresses.

Scope. A portal session is an `Actor` with no role and `portal_customer_id` set: every staff
policy (`domain.policies`) gives it nothing, and the API lets it reach only the portal's
fields (`schema/extensions.py`). The services here scope every read by the agency and the
customer: another customer's ticket, or another agency's, is NOT_FOUND, like one that does
not exist. A ticket the contact opens, or a reply they write, is made by the ticket service
on their behalf: the audit names `portal:<contact id>`.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints
from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.contacts import Contact
from db.customers import Customer, CustomerContact
from db.knowledge_base import Article
from db.messages import Message
from db.portal import PortalSignIn
from db.tickets import Ticket, TicketPortalReply
from domain import messages
from domain.actors import Actor
from domain.audit import record_audit
from domain.contacts import contact_with_address
from domain.errors import DomainError, validated
from domain.events import append_event
from domain.field_types import SearchTerm, input_codes
from domain.knowledge_base import ArticleStatus, ArticleVisibility
from domain.message_kinds import TemplateKind
from domain.message_rendering import TemplateParts
from domain.pagination import Ordering, Page, keyset_page
from domain.rate_limits import DatabaseCounters, RateCounters, RateLimit, take
from domain.roles import Role
from domain.signed_links import InvalidLink, LinkConfig, LinkPurpose, sign, subject_of
from domain.tickets import (
    AGGREGATE as TICKET,
)
from domain.tickets import (
    MAX_DESCRIPTION_LENGTH,
    MAX_SUBJECT_LENGTH,
    TicketChannel,
    TicketOrderField,
    create_ticket,
    customer_replied,
)

# A portal session token, as the API's bearer credentials: `portal_<signed token>`.
TOKEN_PREFIX = "portal_"
MAX_REPLY_LENGTH = 20_000
REPLIED_EVENT = "ticket.portal_replied"
NEWEST_FIRST = Ordering(TicketOrderField.CREATED_AT, descending=True)


class PortalErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    CLOSED = "CLOSED"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_LINK = "INVALID_LINK"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    UNAUTHENTICATED = "UNAUTHENTICATED"


_CODES = input_codes(PortalErrorCode)


@dataclass(frozen=True)
class PortalLimits:
    """How many sign-in links an address, and a client address, may ask for a window; and
    the least time every answer to such a request takes."""

    window: timedelta = timedelta(hours=1)
    per_email: int = 3
    per_client_address: int = 20
    answer_floor: timedelta = timedelta(milliseconds=300)


@dataclass(frozen=True)
class PortalSession:
    token: str  # with TOKEN_PREFIX: the API's bearer credentials
    expires_at: datetime
    agency_id: UUID


class NewTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SUBJECT_LENGTH)
    ]
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_LENGTH)] = ""


class PortalReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_REPLY_LENGTH)
    ]


def _validate(model: type[BaseModel], data: dict[str, object]) -> BaseModel:
    return validated(model, data, _CODES, PortalErrorCode.INVALID)


def _now() -> datetime:
    return datetime.now(UTC)


# --- signing in -------------------------------------------------------------------------------


def _hashed(value: str) -> str:
    """Rate limit keys name an address by its digest: the counters hold no address."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


async def _throttled(
    counters: RateCounters, limits: PortalLimits, agency: str, email: str, address: str
) -> bool:
    by_email = RateLimit("portal-link-email", limits.per_email, limits.window)
    by_address = RateLimit("portal-link-address", limits.per_client_address, limits.window)
    email_decision = await take(counters, by_email, _hashed(f"{agency}:{email}"))
    address_decision = await take(counters, by_address, _hashed(address))
    return not (email_decision.allowed and address_decision.allowed)


async def request_sign_in_link(
    links: LinkConfig,
    limits: PortalLimits,
    agency_slug: str,
    email: str,
    address: str,
    counters: RateCounters | None = None,
) -> None:
    """Email a sign-in link if `email` is a contact of a customer of the agency; the same
    answer, in the same least time, whether it is or not (module docstring)."""
    started = time.monotonic()
    try:
        await _request(
            links,
            limits,
            counters or DatabaseCounters(),
            agency_slug.strip().lower()[:60],
            email.strip().lower()[:254],
            address[:64],
        )
    finally:
        left = limits.answer_floor.total_seconds() - (time.monotonic() - started)
        if left > 0:
            await asyncio.sleep(left)


async def _request(
    links: LinkConfig,
    limits: PortalLimits,
    counters: RateCounters,
    agency_slug: str,
    email: str,
    address: str,
) -> None:
    if "@" not in email:
        raise DomainError(PortalErrorCode.INVALID_EMAIL, "Not an email address.", "email")
    if await _throttled(counters, limits, agency_slug, email, address):
        raise DomainError(
            PortalErrorCode.TOO_MANY_ATTEMPTS, "Too many link requests; wait a while and retry."
        )
    agency = await Agency.get_or_none(slug=agency_slug)
    contact = await contact_with_address(agency.id, email) if agency is not None else None
    if agency is None or contact is None:
        return
    link = (
        await CustomerContact.filter(agency_id=agency.id, contact_id=contact.id)
        .filter(customer_id__in=Subquery(Customer.filter(deleted_at__isnull=True).values("id")))
        .order_by("-is_primary", "created_at")
        .first()
    )
    if link is None:
        return
    async with in_transaction() as conn:
        sign_in = await PortalSignIn.create(
            agency_id=agency.id,
            contact_id=contact.id,
            customer_id=link.customer_id,
            link_expires_at=_now() + links.portal_link_lifetime,
            using_db=conn,
        )
        actor = Actor.system(agency.id, "portal")
        minutes = int(links.portal_link_lifetime.total_seconds() // 60)
        body = (
            f"Hello {contact.first_name},\n\nthe link below signs you in to the support portal "
            f"of {agency.name}. It works once, for {minutes} minutes. If you did not ask for "
            "it, ignore this email."
        )
        await messages.queue_for_delivery(
            actor,
            messages.MessageRequest(
                record_type="contact",
                record_id=str(contact.id),
                idempotency_key=f"portal-sign-in:{sign_in.id}",
                source="portal_sign_in",
                text=TemplateParts(f"Sign in to {agency.name}'s support portal"[:200], body),
                kind=TemplateKind.TRANSACTIONAL,
                recipients=[email],
                to_record=False,
                page_link=(LinkPurpose.PORTAL_SIGN_IN, str(sign_in.id)),
            ),
            conn,
        )
        await record_audit(actor, "contact", str(contact.id), "portal_link", {}, {}, conn)


def _row_id(links: LinkConfig, purpose: LinkPurpose, token: str) -> UUID:
    try:
        return UUID(str(subject_of(links, purpose, token)))
    except ValueError as exc:
        raise InvalidLink from exc


async def check_sign_in_link(links: LinkConfig, token: str) -> None:
    """`InvalidLink` unless the emailed link may still sign in (forged, altered, expired and
    used links alike)."""
    row_id = _row_id(links, LinkPurpose.PORTAL_SIGN_IN, token)
    if not await PortalSignIn.exists(
        id=row_id, signed_in_at__isnull=True, link_expires_at__gt=_now()
    ):
        raise InvalidLink


async def sign_in(links: LinkConfig, token: str) -> PortalSession:
    """Spend the emailed link and open its session; `InvalidLink` for any link that cannot."""
    row_id = _row_id(links, LinkPurpose.PORTAL_SIGN_IN, token)
    now = _now()
    async with in_transaction() as conn:
        row = (
            await PortalSignIn.filter(id=row_id, signed_in_at__isnull=True, link_expires_at__gt=now)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if row is None:
            raise InvalidLink
        row.signed_in_at = now
        row.session_expires_at = now + links.portal_session_lifetime
        await row.save(using_db=conn, update_fields=["signed_in_at", "session_expires_at"])
        actor = Actor.system(row.agency_id, "portal")
        await record_audit(
            replace(actor, id=f"portal:{row.contact_id}"),
            "contact",
            str(row.contact_id),
            "portal_sign_in",
            {},
            {"session": str(row.id)},
            conn,
        )
    signed = sign(links, LinkPurpose.PORTAL_SESSION, str(row.id), now)
    return PortalSession(TOKEN_PREFIX + signed, row.session_expires_at, row.agency_id)


def _unauthenticated() -> DomainError:
    return DomainError(
        PortalErrorCode.UNAUTHENTICATED, "The portal session is not valid; sign in again."
    )


async def portal_actor(links: LinkConfig, credentials: str, request_id: str = "") -> Actor:
    """The portal actor behind a session token, or UNAUTHENTICATED. Checked against the
    database on every request: a session signed out, or a contact no longer of the customer
    (or deleted), ends at once."""
    try:
        row_id = _row_id(links, LinkPurpose.PORTAL_SESSION, credentials.removeprefix(TOKEN_PREFIX))
    except InvalidLink as exc:
        raise _unauthenticated() from exc
    row = await PortalSignIn.get_or_none(
        id=row_id, signed_in_at__isnull=False, ended_at__isnull=True, session_expires_at__gt=_now()
    )
    if row is None or not await CustomerContact.exists(
        agency_id=row.agency_id,
        customer_id=row.customer_id,
        contact_id=row.contact_id,
        contact_id__in=Subquery(
            Contact.filter(id=row.contact_id, deleted_at__isnull=True).values("id")
        ),
    ):
        raise _unauthenticated()
    return Actor(
        agency_id=row.agency_id,
        id=f"portal:{row.contact_id}",
        request_id=request_id,
        portal_customer_id=row.customer_id,
        portal_contact_id=row.contact_id,
        portal_session_id=row.id,
    )


def _require(actor: Actor) -> UUID:
    if actor.portal_customer_id is None:
        raise DomainError(PortalErrorCode.FORBIDDEN, "Only a portal session reaches the portal.")
    return actor.portal_customer_id


async def sign_out(actor: Actor) -> None:
    _require(actor)
    async with in_transaction() as conn:
        await (
            PortalSignIn.filter(id=actor.portal_session_id, ended_at__isnull=True)
            .using_db(conn)
            .update(ended_at=_now())
        )
        await record_audit(
            actor, "contact", str(actor.portal_contact_id), "portal_sign_out", {}, {}, conn
        )


@dataclass(frozen=True)
class Whoami:
    contact_name: str
    customer_name: str
    agency_name: str


async def whoami(actor: Actor) -> Whoami:
    customer_id = _require(actor)
    contact = await Contact.get(id=actor.portal_contact_id)
    customer = await Customer.get(id=customer_id)
    agency = await Agency.get(id=actor.agency_id)
    name = f"{contact.first_name} {contact.last_name}".strip()
    return Whoami(name, customer.name, agency.name)


# --- tickets ----------------------------------------------------------------------------------


def customer_tickets(actor: Actor) -> QuerySet[Ticket]:
    """The tickets of the actor's customer, in the actor's agency: the portal's whole scope."""
    customer_id = _require(actor)
    return Ticket.filter(
        agency_id=actor.agency_id, customer_id=customer_id, deleted_at__isnull=True
    )


def _not_found(ticket_id: UUID) -> DomainError:
    return DomainError(PortalErrorCode.NOT_FOUND, f"No ticket with id {ticket_id}.", "id")


async def get_ticket(actor: Actor, ticket_id: UUID) -> Ticket:
    ticket = await customer_tickets(actor).get_or_none(id=ticket_id)
    if ticket is None:
        raise _not_found(ticket_id)
    return ticket


async def list_tickets(actor: Actor, first: int, after: str | None = None) -> Page[Ticket]:
    """The customer's tickets, newest first."""
    return await keyset_page(customer_tickets(actor), NEWEST_FIRST, first, after)


def _on_behalf(actor: Actor) -> Actor:
    """The actor the ticket service acts as for a contact's own, already scoped, request: the
    service's checks pass, the audit names the contact."""
    system = Actor.system(actor.agency_id, "portal")
    return replace(system, id=actor.id, request_id=actor.request_id, roles=frozenset({Role.ADMIN}))


async def open_ticket(actor: Actor, subject: str, description: str = "") -> Ticket:
    """A new ticket of the contact and their customer (channel PORTAL), assigned by the
    agency's rules like any other."""
    customer_id = _require(actor)
    given = _validate(NewTicket, {"subject": subject, "description": description})
    data = {
        **given.model_dump(),
        "channel": TicketChannel.PORTAL,
        "customer_id": customer_id,
        "contact_id": actor.portal_contact_id,
    }
    return await create_ticket(_on_behalf(actor), data)


async def reply(actor: Actor, ticket_id: UUID, body: str) -> TicketPortalReply:
    """The contact's answer on one of their customer's tickets: kept on the ticket, and a
    Pending ticket (or a Resolved one within the reopen window) is Open again. A Closed one
    takes no answer (CLOSED): the contact opens a new ticket."""
    text = _validate(PortalReply, {"body": body}).body  # type: ignore[attr-defined]
    ticket = await get_ticket(actor, ticket_id)
    if ticket.status == "closed":
        raise DomainError(PortalErrorCode.CLOSED, "A closed ticket takes no replies.", "id")
    async with in_transaction() as conn:
        written = await TicketPortalReply.create(
            agency_id=actor.agency_id,
            ticket_id=ticket.id,
            contact_id=actor.portal_contact_id,
            body=text,
            using_db=conn,
        )
        change = {"portal_reply_id": str(written.id), "contact_id": str(actor.portal_contact_id)}
        await record_audit(actor, TICKET, str(ticket.id), "portal_reply", {}, change, conn)
        await append_event(actor, REPLIED_EVENT, TICKET, str(ticket.id), change, conn)
    await customer_replied(ticket.id, actor.agency_id, by="portal")
    return written


@dataclass(frozen=True)
class ConversationEntry:
    """One public message on a ticket: the agency's reply, or the contact's portal reply."""

    at: datetime
    from_customer: bool
    body: str


async def conversation(actor: Actor, ticket: Ticket) -> list[ConversationEntry]:
    """The ticket's public conversation, oldest first: the agency's public replies (not its
    internal notes, nor the survey) and the customer's portal replies."""
    customer_id = _require(actor)
    if ticket.customer_id != customer_id or ticket.agency_id != actor.agency_id:
        return []
    sent = await Message.filter(
        agency_id=actor.agency_id,
        record_type=TICKET,
        record_id=str(ticket.id),
        idempotency_key__contains=":reply:",
    ).order_by("id")
    written = await TicketPortalReply.filter(agency_id=actor.agency_id, ticket_id=ticket.id)
    entries = [ConversationEntry(m.created_at, False, m.text_body.rstrip()) for m in sent]
    entries += [ConversationEntry(r.created_at, True, r.body) for r in written]
    return sorted(entries, key=lambda entry: entry.at)


# --- knowledge base ---------------------------------------------------------------------------


class ArticleSearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    search: SearchTerm | None = None


def public_articles(actor: Actor) -> QuerySet[Article]:
    """The agency's published public articles (never a draft, never an internal one)."""
    _require(actor)
    return Article.filter(
        agency_id=actor.agency_id,
        deleted_at__isnull=True,
        status=ArticleStatus.PUBLISHED,
        visibility=ArticleVisibility.PUBLIC,
    )


async def list_articles(
    actor: Actor, first: int, after: str | None = None, search: str | None = None
) -> Page[Article]:
    query = public_articles(actor)
    if search:
        term = _validate(ArticleSearch, {"search": search}).search  # type: ignore[attr-defined]
        if term:
            query = query.filter(Article.matching(term))
    ordering = Ordering(TicketOrderField.CREATED_AT, descending=True)
    return await keyset_page(query, ordering, first, after)


async def get_article(actor: Actor, article_id: UUID) -> Article:
    found = await public_articles(actor).get_or_none(id=article_id)
    if found is None:
        raise DomainError(PortalErrorCode.NOT_FOUND, f"No article with id {article_id}.", "id")
    return found
