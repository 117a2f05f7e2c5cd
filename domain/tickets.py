"""Ticket service: open, read, list, change and move tickets through their lifecycle, write
internal notes (the notes service, on the ticket) and public replies.

A ticket is read and changed under the TICKETS row scope, which follows its assignee
(`domain.roles`): support and admins work the agency's whole queue, a sales head reads every
ticket and works their team's, a sales person only the ones handed to them (and reads those
of the customers they own, `domain.policies.rows`).

A public reply is a message to the ticket's contact through the one sending path
(`domain.messages`): transactional (a customer who unsubscribed from news still hears about
their ticket), kept on the ticket as a `message` row about it, and sent with the CRM's
`Reply-To`, so the answer threads back. Internal notes are notes on the ticket: never sent.

Resolving needs a public reply or a reason (the machine's guard). A resolved ticket may be
reopened for the agency's `ticket_reopen_days`; a `TicketClosing` run, started through the
outbox with the resolution, closes it when the window ends (if it is still resolved from that
same resolution).

SLA clocks. A ticket opened while the agency has an SLA policy takes the current version's
targets for its priority (and its customer's rating), the agency's business calendar and the
policy's warning share, copied onto the row, and a `TicketSla` run (through the outbox) keeps
its clocks. Pending and Resolved pause them, the way back to Open resumes them: the service
records the pause on the row and signals the run with the same moment, and both compute with
`domain.business_time`, so the time left the API shows is the run's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.agencies import Agency, OrgUnit
from db.contacts import Contact
from db.customers import Customer
from db.messages import Message
from db.service_levels import SlaPolicy
from db.tickets import Ticket as Ticket
from db.tickets import TicketPortalReply
from db.users import User
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.business_time import BusinessCalendar, ClockState, due_at, resume, time_left
from domain.errors import DomainError, validated
from domain.events import append_event
from domain.field_types import SearchTerm, input_codes
from domain.lifecycles import apply_event
from domain.lifecycles.ticket import TicketLifecycle
from domain.message_kinds import TemplateKind
from domain.message_rendering import MAX_LENGTHS, TemplateParts
from domain.messages import MessageRequest, queue_for_delivery
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user
from domain.outbox import OutboxKind, enqueue
from domain.pagination import Ordering, Page, keyset_page
from domain.policies import may_own
from domain.record_changes import record_created, record_transitioned, record_updated
from domain.roles import Access, Resource, Role
from domain.sales_records import check_links, locked, scoped
from domain.service_levels import calendar_of, calendar_row, current_policy, targets_for
from domain.signed_links import LinkPurpose
from domain.ticket_assignment import next_agent, team_by_rules
from domain.users import assignable_owner

AGGREGATE = "ticket"
MAX_SUBJECT_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 20_000
MAX_REASON_LENGTH = 500
MAX_COMMENT_LENGTH = 2_000
CLOSING_WORKFLOW = "ticket-closing-{ticket_id}-{resolved}"
REPLIED_EVENT = "ticket.replied"
SLA_WORKFLOW = "ticket-sla-{ticket_id}"
# The states in which the SLA clocks stand still.
CLOCKS_PAUSED = frozenset({"pending", "resolved"})


class TicketErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    GUARD_FAILED = "GUARD_FAILED"
    NO_ADDRESS = "NO_ADDRESS"
    CLOSED = "CLOSED"


class TicketChannel(StrEnum):
    EMAIL = "email"
    PORTAL = "portal"
    PHONE = "phone"
    API = "api"


class TicketPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


_CODES = input_codes(TicketErrorCode)

Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SUBJECT_LENGTH)
]
Category = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]


class TicketChanges(BaseModel):
    """Fields a caller may set; on update only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    subject: Subject
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_LENGTH)] = ""
    channel: TicketChannel = TicketChannel.API
    priority: TicketPriority = TicketPriority.NORMAL
    category: Category = ""
    customer_id: UUID | None = None
    contact_id: UUID | None = None
    assignee_id: UUID | None = None
    team_id: UUID | None = None


class TicketFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status_in: list[str] | None = None
    priority_in: list[TicketPriority] | None = None
    channel_in: list[TicketChannel] | None = None
    category: Category | None = None
    assignee_id: UUID | None = None
    unassigned: bool | None = None
    team_id: UUID | None = None
    customer_id: UUID | None = None
    contact_id: UUID | None = None
    search: SearchTerm | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LENGTHS["text_body"]),
    ]


class TicketOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    PRIORITY = "priority_rank"


NEWEST_FIRST = Ordering(TicketOrderField.CREATED_AT, descending=True)


def ticket_ordering(field: TicketOrderField, descending: bool) -> Ordering:
    """By priority (descending: urgent, high, normal, low), the tickets of one priority by
    creation in the same direction; every ordering ends with the id."""
    then = (TicketOrderField.CREATED_AT.value,) if field is TicketOrderField.PRIORITY else ()
    return Ordering(field.value, descending, then)


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """The ticket's fields as JSON values, for audit rows and event payloads."""

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": str(ticket.id),
        "subject": ticket.subject,
        "description": ticket.description,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "category": ticket.category,
        "customer_id": text(ticket.customer_id),
        "contact_id": text(ticket.contact_id),
        "assignee_id": text(ticket.assignee_id),
        "team_id": text(ticket.team_id),
        "status": ticket.status,
        "resolution_reason": ticket.resolution_reason,
        "first_response_at": moment(ticket.first_response_at),
        "resolved_at": moment(ticket.resolved_at),
        "closed_at": moment(ticket.closed_at),
    }


def _validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return validated(model, data, _CODES, TicketErrorCode.INVALID)


def _parse(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    if partial:
        changes: TicketChanges = _validate(TicketChanges, {"subject": "-", **data})
        return changes.model_dump(include=set(data))
    complete: TicketChanges = _validate(TicketChanges, data)
    return complete.model_dump()


def scoped_tickets(actor: Actor, access: Access = Access.READ) -> QuerySet[Ticket]:
    """Tickets the actor may read (or change): the TICKETS rule, by assignee."""
    return scoped(Ticket, actor, access, "assignee_id", Resource.TICKETS)


def _not_found(ticket_id: UUID) -> DomainError:
    return DomainError(TicketErrorCode.NOT_FOUND, f"No ticket with id {ticket_id}.", "id")


async def _locked(actor: Actor, ticket_id: UUID, conn: BaseDBAsyncClient) -> Ticket:
    return await locked(
        Ticket, actor, ticket_id, conn, TicketErrorCode, "ticket", "assignee_id", Resource.TICKETS
    )


async def get_ticket(actor: Actor, ticket_id: UUID) -> Ticket:
    ticket = await scoped_tickets(actor).get_or_none(id=ticket_id)
    if ticket is None:
        raise _not_found(ticket_id)
    return ticket


async def tickets_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, Ticket]:
    """Batch load for DataLoaders and `node`, scoped like every other read."""
    return {t.id: t for t in await scoped_tickets(actor).filter(id__in=list(ids))}


async def list_tickets(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering = NEWEST_FIRST,
) -> Page[Ticket]:
    """The tickets the actor may read, filtered."""
    query = scoped_tickets(actor)
    if criteria:
        where: TicketFilter = _validate(TicketFilter, criteria)
        exact = ("category", "assignee_id", "team_id", "customer_id", "contact_id")
        query = query.filter(
            **{name: getattr(where, name) for name in exact if getattr(where, name) is not None}
        )
        for name, column in (
            ("status_in", "status"),
            ("priority_in", "priority"),
            ("channel_in", "channel"),
        ):
            values = getattr(where, name)
            if values is not None:
                query = query.filter(**{f"{column}__in": [str(v) for v in values]})
        if where.unassigned is not None:
            query = query.filter(assignee_id__isnull=where.unassigned)
        if where.search:
            query = query.filter(Ticket.matching(where.search))
        if where.created_after is not None:
            query = query.filter(created_at__gte=where.created_after)
        if where.created_before is not None:
            query = query.filter(created_at__lt=where.created_before)
    return await keyset_page(query, ordering, first, after)


async def _check_fields(actor: Actor, fields: dict[str, Any]) -> None:
    """The customer and contact must be ones the actor sees, the assignee an active user the
    actor may hand tickets to, the team an org unit of the agency."""
    links = {"customer_id": Customer, "contact_id": Contact}
    await check_links(
        actor,
        {name: (model, fields[name]) for name, model in links.items() if name in fields},
        TicketErrorCode,
    )
    if "assignee_id" in fields:
        assignee = fields["assignee_id"]
        if not may_own(actor, Resource.TICKETS, assignee):
            raise DomainError(
                TicketErrorCode.FORBIDDEN, "You may not give tickets to that person.", "assignee_id"
            )
        if not await assignable_owner(actor, assignee):
            raise DomainError(
                TicketErrorCode.NOT_FOUND, "No active user with that id.", "assignee_id"
            )
    team = fields.get("team_id")
    if team is not None and not await OrgUnit.exists(id=team, agency_id=actor.agency_id):
        raise DomainError(TicketErrorCode.NOT_FOUND, "No org unit with that id.", "team_id")


async def create_ticket(
    actor: Actor,
    data: dict[str, Any],
    ticket_id: UUID | None = None,
    follows_ticket_id: UUID | None = None,
) -> Ticket:
    """A new ticket (New). A person who opens one without naming an assignee leaves it in
    the queue (unassigned), unless their role works only their own tickets. `ticket_id`: the
    id to give it (mail opens its ticket under an id derived from the message, once);
    `follows_ticket_id`: the earlier ticket it follows up."""
    fields = _parse(data, partial=False)
    if fields["assignee_id"] is None and not may_own(actor, Resource.TICKETS, None):
        fields["assignee_id"] = actor.user_id
    await _check_fields(actor, fields)
    async with in_transaction() as conn:
        if fields["assignee_id"] is None:
            await _assign(actor.agency_id, fields, conn)
        ticket = Ticket(agency_id=actor.agency_id, follows_ticket_id=follows_ticket_id, **fields)
        if ticket_id is not None:
            ticket.id = ticket_id
        await ticket.save(using_db=conn, force_create=True)
        await _start_clocks(ticket, conn)
        await record_created(actor, AGGREGATE, str(ticket.id), snapshot(ticket), conn)
    return ticket


async def update_ticket(actor: Actor, ticket_id: UUID, data: dict[str, Any]) -> Ticket:
    fields = _parse(data, partial=True)
    await _check_fields(actor, fields)
    async with in_transaction() as conn:
        ticket = await _locked(actor, ticket_id, conn)
        if ticket.status == "closed":
            raise DomainError(TicketErrorCode.CLOSED, "A closed ticket does not change.", "id")
        before = snapshot(ticket)
        ticket.update_from_dict(fields)
        if ticket.priority != before["priority"]:
            await _retarget_clocks(ticket, conn)
        await ticket.save(using_db=conn)
        old, new = changed_fields(before, snapshot(ticket))
        if new:
            await record_updated(actor, AGGREGATE, str(ticket.id), old, new, conn)
    return ticket


async def _rating(customer_id: UUID | None, conn: BaseDBAsyncClient) -> str:
    if customer_id is None:
        return ""
    customer = await Customer.filter(id=customer_id).using_db(conn).first()
    return customer.rating if customer is not None else ""


async def _assign(agency_id: UUID, fields: dict[str, Any], conn: BaseDBAsyncClient) -> None:
    """A ticket nobody was named for: the team of the first matching rule (unless one was
    given), then the team's next agent (`domain.ticket_assignment`)."""
    if fields["team_id"] is None:
        rating = await _rating(fields["customer_id"], conn)
        fields["team_id"] = await team_by_rules(
            agency_id, fields["category"], str(fields["priority"]), rating, conn
        )
    if fields["team_id"] is not None:
        fields["assignee_id"] = await next_agent(agency_id, fields["team_id"], conn)


def closing_workflow_id(ticket: Ticket) -> str:
    assert ticket.resolved_at is not None
    resolved = int(ticket.resolved_at.timestamp())
    return CLOSING_WORKFLOW.format(ticket_id=ticket.id, resolved=resolved)


async def transition_ticket(
    actor: Actor, ticket_id: UUID, event: str, reason: str = "", now: datetime | None = None
) -> Ticket:
    """Apply a lifecycle event. RESOLVE takes a reason (needed without a public reply) and
    starts the reopen window's timer; REOPEN works within the window only."""
    moment = now or datetime.now(UTC)
    why = reason.strip()
    if len(why) > MAX_REASON_LENGTH:
        raise DomainError(
            TicketErrorCode.TOO_LONG, f"At most {MAX_REASON_LENGTH} characters.", "reason"
        )
    async with in_transaction() as conn:
        ticket = await _locked(actor, ticket_id, conn)
        agency = await Agency.filter(id=actor.agency_id).using_db(conn).get()
        window = timedelta(days=agency.ticket_reopen_days)
        facts = {
            "has_public_reply": ticket.first_response_at is not None,
            "reason": why,
            "reopen_window_open": ticket.resolved_at is not None
            and moment < ticket.resolved_at + window,
        }
        before = snapshot(ticket)
        await apply_event(
            TicketLifecycle, ticket, event, TicketErrorCode.INVALID_TRANSITION, facts=facts
        )
        if event == "resolve":
            ticket.resolved_at, ticket.resolution_reason = moment, why
        elif event == "close":
            ticket.closed_at = moment
        await _move_clocks(ticket, before["status"], moment, conn)
        await ticket.save(using_db=conn)
        await _record_transition(actor, ticket, event, before, conn)
        if event == "resolve":
            await _start_closing(ticket, moment + window, conn)
            await _send_survey(actor, ticket, conn)
    return ticket


async def _record_transition(
    actor: Actor, ticket: Ticket, event: str, before: dict[str, Any], conn: BaseDBAsyncClient
) -> None:
    after = snapshot(ticket)
    change = {
        "event": event,
        "from": before["status"],
        "to": ticket.status,
        "customer_id": after["customer_id"],
        "contact_id": after["contact_id"],
        "reason": ticket.resolution_reason if event == "resolve" else "",
    }
    audited = changed_fields(before, after)
    await record_transitioned(actor, AGGREGATE, str(ticket.id), event, audited, change, conn)


async def _start_closing(ticket: Ticket, close_at: datetime, conn: BaseDBAsyncClient) -> None:
    assert ticket.resolved_at is not None
    await enqueue(
        ticket.agency_id,
        OutboxKind.START_TICKET_CLOSING,
        closing_workflow_id(ticket),
        {
            "ticket_id": str(ticket.id),
            "resolved_at": ticket.resolved_at.isoformat(),
            "close_at": close_at.isoformat(),
        },
        conn,
    )


async def close_after_window(ticket_id: UUID, resolved_at: datetime) -> bool:
    """Inside `TicketClosing`'s activity: close the ticket if it is still resolved from the
    resolution that started the timer (a reopened and re-resolved ticket has a later one).
    Whether it closed now; a retry after the close finds it closed and does nothing."""
    async with in_transaction() as conn:
        ticket = await Ticket.filter(id=ticket_id).using_db(conn).select_for_update().first()
        if (
            ticket is None
            or ticket.status != "resolved"
            or ticket.resolved_at is None
            or abs((ticket.resolved_at - resolved_at).total_seconds()) >= 1
        ):
            return False
        actor = Actor.system(ticket.agency_id, "tickets")
        before = snapshot(ticket)
        await apply_event(TicketLifecycle, ticket, "close", TicketErrorCode.INVALID_TRANSITION)
        ticket.closed_at = datetime.now(UTC)
        await _move_clocks(ticket, before["status"], ticket.closed_at, conn)
        await ticket.save(using_db=conn)
        await _record_transition(actor, ticket, "close", before, conn)
    return True


class CustomerAnswer(StrEnum):
    """What a customer's answer (mail threaded to the ticket, a portal reply) did to it."""

    REOPENED = "reopened"  # Pending or Resolved (within the reopen window): Open again
    STAYED = "stayed"  # New or Open: it stays
    TOO_LATE = "too_late"  # Closed, or Resolved past the window: a new ticket is needed


async def customer_replied(
    ticket_id: UUID, agency_id: UUID, by: str = "inbound-email"
) -> CustomerAnswer:
    """The customer answered: a Pending ticket is Open again (`CUSTOMER_REPLIED`), a Resolved
    one is reopened while the agency's reopen window holds (`REOPEN`), and the clocks run
    again; a Closed one, or a Resolved one past the window, is TOO_LATE."""
    actor = Actor.system(agency_id, by)
    ticket = await Ticket.get_or_none(id=ticket_id, agency_id=agency_id, deleted_at__isnull=True)
    if ticket is None or ticket.status == "closed":
        return CustomerAnswer.TOO_LATE
    event = {"pending": "customer_replied", "resolved": "reopen"}.get(ticket.status)
    if event is None:
        return CustomerAnswer.STAYED
    try:
        await transition_ticket(actor, ticket_id, event)
    except DomainError as refused:
        if refused.code == TicketErrorCode.GUARD_FAILED:  # resolved too long ago
            return CustomerAnswer.TOO_LATE
        return CustomerAnswer.STAYED  # moved on meanwhile (an agent resolved it): it stays
    return CustomerAnswer.REOPENED


# --- the satisfaction survey ------------------------------------------------------------------


def survey_subject(ticket: Ticket) -> str:
    """What a survey link names: the ticket and its resolution (a later one sends a new link)."""
    assert ticket.resolved_at is not None
    return f"{ticket.id}:{int(ticket.resolved_at.timestamp())}"


async def _send_survey(actor: Actor, ticket: Ticket, conn: BaseDBAsyncClient) -> None:
    """On resolution, the contact gets the satisfaction survey (a one-use signed link to the
    survey page) through the sending path; not once the ticket was rated, nor without an
    address."""
    if ticket.rated_at is not None or ticket.contact_id is None:
        return
    contact = await Contact.filter(id=ticket.contact_id).using_db(conn).first()
    address = next(iter(contact.emails), "") if contact is not None else ""
    if not address:
        return
    subject = survey_subject(ticket)
    await queue_for_delivery(
        actor,
        MessageRequest(
            record_type=AGGREGATE,
            record_id=str(ticket.id),
            idempotency_key=f"ticket:{subject}:survey",
            source=reply_source(ticket.id),
            text=TemplateParts(
                f"How did we do? {ticket.subject}"[:200],
                f"Hello {contact.first_name if contact else ''},\n\nyour request "
                f"\u201c{ticket.subject}\u201d is resolved. One click tells us how we did.\n",
            ),
            kind=TemplateKind.TRANSACTIONAL,
            recipients=[address],
            to_record=False,
            page_link=(LinkPurpose.SURVEY, subject),
        ),
        conn,
    )


class RatingOutcome(StrEnum):
    RATED = "rated"
    INVALID_SCORE = "invalid_score"


async def surveyed_ticket(subject: str, conn: BaseDBAsyncClient | None = None) -> Ticket | None:
    """The ticket a survey link names, if the link may still be used: that resolution is the
    ticket's last one, and nobody rated it yet (a link works once)."""
    ticket_part = subject.partition(":")[0]
    try:
        ticket_id = UUID(ticket_part)
    except ValueError:
        return None
    query = Ticket.filter(id=ticket_id, deleted_at__isnull=True).using_db(conn)
    ticket = await (query.select_for_update() if conn is not None else query).first()
    if ticket is None or ticket.resolved_at is None or ticket.rated_at is not None:
        return None
    return ticket if survey_subject(ticket) == subject else None


async def rate_ticket(subject: str, score: int, comment: str) -> RatingOutcome | None:
    """Store the contact's answer once; None if the link may not be used (any reason)."""
    if not 1 <= score <= 5:
        return RatingOutcome.INVALID_SCORE
    async with in_transaction() as conn:
        ticket = await surveyed_ticket(subject, conn)
        if ticket is None:
            return None
        ticket.satisfaction_score = score
        ticket.satisfaction_comment = comment.strip()[:MAX_COMMENT_LENGTH]
        ticket.rated_at = datetime.now(UTC)
        await ticket.save(
            using_db=conn, update_fields=["satisfaction_score", "satisfaction_comment", "rated_at"]
        )
        actor = Actor.system(ticket.agency_id, "survey")
        rating = {"score": score, "comment": ticket.satisfaction_comment}
        await record_audit(actor, AGGREGATE, str(ticket.id), "rate", {}, rating, conn)
        await append_event(actor, "ticket.rated", AGGREGATE, str(ticket.id), rating, conn)
    return RatingOutcome.RATED


# --- public replies --------------------------------------------------------------------------


def reply_source(ticket_id: UUID) -> str:
    """The `source` of a public reply's message: how an answer to it finds the ticket."""
    return f"ticket:{ticket_id}"


async def reply_to_ticket(actor: Actor, ticket_id: UUID, body: str) -> Message:
    """A public reply to the ticket's contact, queued with its delivery in the ticket's
    transaction; the first one is the ticket's first response."""
    text = _validate(Reply, {"body": body}).body
    async with in_transaction() as conn:
        ticket = await _locked(actor, ticket_id, conn)
        if ticket.status == "closed":
            raise DomainError(TicketErrorCode.CLOSED, "A closed ticket takes no replies.", "id")
        contact = (
            await Contact.filter(id=ticket.contact_id, deleted_at__isnull=True)
            .using_db(conn)
            .first()
            if ticket.contact_id
            else None
        )
        address = next(iter(contact.emails), "") if contact else ""
        if not address:
            raise DomainError(
                TicketErrorCode.NO_ADDRESS, "The ticket's contact has no email address.", "id"
            )
        sent = (
            await Message.filter(
                agency_id=ticket.agency_id, record_type=AGGREGATE, record_id=str(ticket.id)
            )
            .using_db(conn)
            .count()
        )
        message = await queue_for_delivery(
            actor,
            MessageRequest(
                record_type=AGGREGATE,
                record_id=str(ticket.id),
                idempotency_key=f"ticket:{ticket.id}:reply:{sent + 1}",
                source=reply_source(ticket.id),
                text=TemplateParts(f"Re: {ticket.subject}", f"{text}\n"),
                kind=TemplateKind.TRANSACTIONAL,
                recipients=[address],
                to_record=False,
            ),
            conn,
        )
        before = snapshot(ticket)
        if ticket.first_response_at is None:
            ticket.first_response_at = datetime.now(UTC)
            await ticket.save(using_db=conn, update_fields=["first_response_at", "updated_at"])
            await _signal_clocks(ticket, "responded", ticket.first_response_at, conn)
        old, new = changed_fields(before, snapshot(ticket))
        await record_audit(
            actor, AGGREGATE, str(ticket.id), "reply", old, {**new, "message_id": message.id}, conn
        )
        change = {"message_id": message.id, "contact_id": before["contact_id"]}
        await append_event(actor, REPLIED_EVENT, AGGREGATE, str(ticket.id), change, conn)
    return message


async def portal_replies_of(actor: Actor, ticket: Ticket) -> list[TicketPortalReply]:
    """The contact's answers written in the customer portal, oldest first (the caller has
    been shown the ticket)."""
    return await TicketPortalReply.filter(agency_id=actor.agency_id, ticket_id=ticket.id).order_by(
        "created_at", "id"
    )


async def replies_of(actor: Actor, ticket: Ticket) -> list[Message]:
    """The ticket's public replies, oldest first (the caller has been shown the ticket)."""
    return await Message.filter(
        agency_id=actor.agency_id, record_type=AGGREGATE, record_id=str(ticket.id)
    ).order_by("id")


# --- SLA clocks ------------------------------------------------------------------------------


def sla_workflow_id(ticket_id: UUID) -> str:
    return SLA_WORKFLOW.format(ticket_id=ticket_id)


def calendar_of_ticket(ticket: Ticket) -> BusinessCalendar | None:
    return BusinessCalendar(**ticket.sla_calendar) if ticket.sla_calendar else None


def clock_state(ticket: Ticket) -> ClockState:
    return ClockState(ticket.created_at, ticket.sla_paused_seconds, ticket.sla_paused_since)


async def _start_clocks(ticket: Ticket, conn: BaseDBAsyncClient) -> None:
    """Copy the current policy's targets and the calendar onto a new ticket, and start its
    `TicketSla` run; a ticket opened without a policy (or a target) has no clocks."""
    policy = await current_policy(ticket.agency_id, conn)
    if policy is None:
        return
    targets = targets_for(policy, ticket.priority, await _rating(ticket.customer_id, conn))
    if targets.first_response is None and targets.resolution is None:
        return
    calendar = calendar_of(await calendar_row(ticket.agency_id, conn), ticket.created_at)
    ticket.sla_policy_version = policy.version
    ticket.sla_calendar = dataclasses.asdict(calendar)
    ticket.sla_warning_share = policy.warning_share
    ticket.first_response_target = targets.first_response
    ticket.resolution_target = targets.resolution
    await ticket.save(using_db=conn)
    await enqueue(
        ticket.agency_id,
        OutboxKind.START_TICKET_SLA,
        sla_workflow_id(ticket.id),
        {
            "ticket_id": str(ticket.id),
            "calendar": ticket.sla_calendar,
            "started_at": ticket.created_at.isoformat(),
            "first_response_target": targets.first_response,
            "resolution_target": targets.resolution,
            "warning_share": policy.warning_share,
        },
        conn,
    )


async def _retarget_clocks(ticket: Ticket, conn: BaseDBAsyncClient) -> None:
    """A new priority: the targets of the same policy version the ticket opened under (and
    its customer's rating), on the row and in the run. A ticket opened without clocks keeps
    none."""
    if ticket.sla_calendar is None or ticket.sla_policy_version is None:
        return
    policy = (
        await SlaPolicy.filter(agency_id=ticket.agency_id, version=ticket.sla_policy_version)
        .using_db(conn)
        .first()
    )
    if policy is None:
        return
    targets = targets_for(policy, ticket.priority, await _rating(ticket.customer_id, conn))
    ticket.first_response_target = targets.first_response
    ticket.resolution_target = targets.resolution
    extra = {
        "first_response_target": targets.first_response,
        "resolution_target": targets.resolution,
    }
    await _signal_clocks(ticket, "retarget", datetime.now(UTC), conn, extra)


async def _signal_clocks(
    ticket: Ticket,
    signal: str,
    at: datetime,
    conn: BaseDBAsyncClient,
    extra: dict[str, Any] | None = None,
) -> None:
    if ticket.sla_calendar is None:
        return
    payload = {"signal": signal, "at": at.isoformat(), **(extra or {})}
    workflow_id = sla_workflow_id(ticket.id)
    await enqueue(ticket.agency_id, OutboxKind.SIGNAL_TICKET_SLA, workflow_id, payload, conn)


async def _move_clocks(
    ticket: Ticket, before: str, moment: datetime, conn: BaseDBAsyncClient
) -> None:
    """Pause, resume or stop the clocks as the status changes, on the row and in the run."""
    calendar = calendar_of_ticket(ticket)
    if calendar is None:
        return
    if ticket.status == "closed":
        await _signal_clocks(ticket, "stop", moment, conn)
    elif ticket.status in CLOCKS_PAUSED and before not in CLOCKS_PAUSED:
        ticket.sla_paused_since = moment
        await _signal_clocks(ticket, "pause", moment, conn)
    elif ticket.status not in CLOCKS_PAUSED and before in CLOCKS_PAUSED:
        state = resume(calendar, clock_state(ticket), moment)
        ticket.sla_paused_seconds, ticket.sla_paused_since = state.paused_seconds, None
        await _signal_clocks(ticket, "resume", moment, conn)


@dataclasses.dataclass(frozen=True)
class SlaClock:
    """One clock as a ticket shows it."""

    name: str
    target_seconds: int
    due_at: datetime | None  # None while paused, or once met
    seconds_left: int
    paused: bool
    met_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None


def sla_clocks(ticket: Ticket, now: datetime | None = None) -> list[SlaClock]:
    """The ticket's clocks now, from the calendar, targets and pauses the run uses."""
    calendar = calendar_of_ticket(ticket)
    if calendar is None:
        return []
    moment = now or datetime.now(UTC)
    state = clock_state(ticket)
    clocks = []
    for name, target, met in (
        ("first_response", ticket.first_response_target, ticket.first_response_at),
        ("resolution", ticket.resolution_target, ticket.resolved_at),
    ):
        if target is None:
            continue
        goal = timedelta(seconds=target)
        done = met is not None and (name == "first_response" or ticket.status in CLOCKS_PAUSED)
        left = time_left(calendar, state, goal, met if done and met else moment)
        clocks.append(
            SlaClock(
                name=name,
                target_seconds=target,
                due_at=None if done else due_at(calendar, state, goal),
                seconds_left=int(left.total_seconds()),
                paused=state.paused_since is not None and not done,
                met_at=met if done else None,
                warned_at=getattr(ticket, f"{name}_warned_at"),
                breached_at=getattr(ticket, f"{name}_breached_at"),
            )
        )
    return clocks


async def _escalation_users(ticket: Ticket, conn: BaseDBAsyncClient) -> list[UUID]:
    """Who hears of a breach: the sales heads of the ticket's team, else the agency's sales
    heads, else its admins (active users only)."""
    people = await User.filter(agency_id=ticket.agency_id, is_active=True).using_db(conn)

    def holding(role: Role, unit: UUID | None = None) -> list[UUID]:
        return [
            p.id
            for p in people
            if role.value in p.roles and (unit is None or p.org_unit_id == unit)
        ]

    if ticket.team_id is not None and (leads := holding(Role.SALES_HEAD, ticket.team_id)):
        return leads
    return holding(Role.SALES_HEAD) or holding(Role.ADMIN)


async def record_sla_event(ticket_id: UUID, clock: str, kind: str, due: datetime) -> bool:
    """Inside `TicketSla`'s activity: record a clock's warning (the assignee is told) or
    breach (escalated), at the time it was due, once. Whether this call recorded it."""
    column = f"{clock}_{'warned' if kind == 'warning' else 'breached'}_at"
    async with in_transaction() as conn:
        ticket = await Ticket.filter(id=ticket_id).using_db(conn).select_for_update().first()
        if ticket is None or getattr(ticket, column) is not None:
            return False
        setattr(ticket, column, due)
        await ticket.save(using_db=conn, update_fields=[column])
        actor = Actor.system(ticket.agency_id, "sla")
        label = clock.replace("_", " ")
        when = f"{due.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        if kind == "warning":
            text = f"SLA warning: the {label} of ticket \u201c{ticket.subject}\u201d is due {when}."
            told = [ticket.assignee_id] if ticket.assignee_id else []
            notice = NotificationKind.REMINDER
        else:
            text = (
                f"SLA breached: the {label} of ticket \u201c{ticket.subject}\u201d was due {when}."
            )
            told = await _escalation_users(ticket, conn)
            notice = NotificationKind.ESCALATION
        for user_id in told:
            await notify_user(
                actor, user_id, text, AGGREGATE, str(ticket.id), f"ticket:{ticket.id}", conn, notice
            )
        payload = {"clock": clock, "due_at": due.isoformat(), "told": [str(u) for u in told]}
        event_type = f"ticket.sla_{'warning' if kind == 'warning' else 'breached'}"
        await record_audit(
            actor, AGGREGATE, str(ticket.id), f"sla_{kind}:{clock}", {}, payload, conn
        )
        await append_event(actor, event_type, AGGREGATE, str(ticket.id), payload, conn)
    return True
