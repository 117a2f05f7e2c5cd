"""Ticket types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.knowledge_base import MAX_SUGGESTIONS
from domain.lifecycles.ticket import TicketEvent, TicketLifecycle, TicketStatus
from domain.message_rendering import MAX_LENGTHS
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.tickets import (
    MAX_DESCRIPTION_LENGTH,
    MAX_REASON_LENGTH,
    MAX_SUBJECT_LENGTH,
    TicketChannel,
    TicketErrorCode,
    TicketOrderField,
    TicketPriority,
    sla_clocks,
)
from domain.tickets import Ticket as TicketRecord
from resolvers import knowledge_base as resolve_articles
from resolvers import related
from resolvers import tickets as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum, lifecycle_enums
from schema.messages import Message
from schema.payloads import errors_as
from schema.record_filters import OrderDirection
from schema.service_levels import SlaClock
from schema.shared_fields import (
    FILTER,
    MUTATION_INPUT,
    ORDER,
    After,
    First,
    RecordId,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)
from schema.users import UserSummary

if TYPE_CHECKING:
    from schema.calling_tasks import CallingTask
    from schema.contacts import Contact
    from schema.customers import Customer
    from schema.knowledge_base import Article
    from schema.meetings import Meeting
    from schema.timeline import TimelineConnection

    TicketStatusEnum = StrEnum
    TicketEventEnum = StrEnum
else:
    TicketStatusEnum, TicketEventEnum = lifecycle_enums(
        TicketLifecycle, TicketStatus, TicketEvent, "Ticket"
    )

error_code_enum(TicketErrorCode, "TicketErrorCode", "tickets")
described_enum(
    TicketOrderField,
    "TicketOrderField",
    "What tickets can be sorted by.",
    {
        "CREATED_AT": "When it was opened.",
        "UPDATED_AT": "When it last changed.",
        "PRIORITY": "Its priority (DESC: urgent, high, normal, low), then when it was opened "
        "in the same direction.",
    },
)
described_enum(
    TicketChannel,
    "TicketChannel",
    "How a ticket came in.",
    {
        "EMAIL": "By mail to the support address.",
        "PORTAL": "Through a customer portal.",
        "PHONE": "By phone, written down by the agency.",
        "API": "Through the API (the default).",
    },
)


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(description="A contact's answer written in the customer portal.")
class PortalReplyEntry:
    body: str = strawberry.field(description="The text.")
    created_at: datetime = strawberry.field(description="When it was written.")
    contact_id: relay.GlobalID | None = strawberry.field(description="The Contact who wrote it.")


@strawberry.type(
    description="A customer's request to the support team: New, Open, Pending (waiting on the "
    "customer), Resolved (may be reopened for the agency's ticketReopenDays), Closed."
)
class Ticket(relay.Node):
    id: relay.NodeID[str] = node_id()
    subject: str = strawberry.field(description="What it is about (never empty).")
    description: str = strawberry.field(description="The request in full; may be empty.")
    channel: TicketChannel = strawberry.field(description="How it came in.")
    priority: TicketPriority = strawberry.field(description="How urgent it is.")
    category: str = strawberry.field(description="Its category; empty when none.")
    status: TicketStatusEnum = strawberry.field(
        description="Where the ticket is in its lifecycle; changed by `transitionTicket`, by "
        "an answer to a reply (Pending to Open) and by the closing timer."
    )
    resolution_reason: str = strawberry.field(
        description="Why it was resolved, if a reason was given."
    )
    first_response_at: datetime | None = strawberry.field(
        description="When the first public reply was written."
    )
    resolved_at: datetime | None = strawberry.field(description="The last resolution.")
    closed_at: datetime | None = strawberry.field(
        description="When it was closed for good; null until."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, TicketRecord))

    @strawberry.field(description="The Customer it is for, if any.")
    def customer_id(self, root: strawberry.Parent[TicketRecord]) -> relay.GlobalID | None:
        return _gid("Customer", root.customer_id)

    @strawberry.field(description="The Contact who asked, if any: public replies go to them.")
    def contact_id(self, root: strawberry.Parent[TicketRecord]) -> relay.GlobalID | None:
        return _gid("Contact", root.contact_id)

    @strawberry.field(description="The team (an OrgUnit) whose queue it is in.")
    def team_id(self, root: strawberry.Parent[TicketRecord]) -> relay.GlobalID | None:
        return _gid("OrgUnit", root.team_id)

    @strawberry.field(description="The customer, if visible to you.")
    async def customer(
        self, info: Info, root: strawberry.Parent[TicketRecord]
    ) -> Annotated[Customer, strawberry.lazy("schema.customers")] | None:
        return await related.customer(info.context, root.customer_id)  # type: ignore[return-value]

    @strawberry.field(description="The contact who asked, if visible to you.")
    async def contact(
        self, info: Info, root: strawberry.Parent[TicketRecord]
    ) -> Annotated[Contact, strawberry.lazy("schema.contacts")] | None:
        return await related.contact(info.context, root.contact_id)  # type: ignore[return-value]

    @strawberry.field(description="Who works it (null: in the team's queue).")
    async def assignee(
        self, info: Info, root: strawberry.Parent[TicketRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.assignee_id)  # type: ignore[return-value]

    @strawberry.field(
        description="The calling tasks linked to it (`ticketId` on a task) that you may read, "
        "by due time."
    )
    async def calling_tasks(
        self, info: Info, root: strawberry.Parent[TicketRecord]
    ) -> list[Annotated[CallingTask, strawberry.lazy("schema.calling_tasks")]]:
        return await resolve.calling_tasks(info.context, root)  # type: ignore[return-value]

    @strawberry.field(
        description="The meetings linked to it (`ticketId` on a meeting) that you may read, "
        "earliest first."
    )
    async def meetings(
        self, info: Info, root: strawberry.Parent[TicketRecord]
    ) -> list[Annotated[Meeting, strawberry.lazy("schema.meetings")]]:
        return await resolve.meetings(info.context, root)  # type: ignore[return-value]

    @strawberry.field(description="The earlier ticket this one follows up, if any.")
    def follows_ticket_id(self, root: strawberry.Parent[TicketRecord]) -> relay.GlobalID | None:
        return _gid("Ticket", root.follows_ticket_id)

    @strawberry.field(
        description="The contact's answers written in the customer portal, oldest first (mail "
        "answers are on the timeline)."
    )
    async def portal_replies(
        self, info: Info, root: strawberry.Parent[TicketRecord]
    ) -> list[PortalReplyEntry]:
        found = await resolve.portal_replies(info.context, root)
        return [
            PortalReplyEntry(
                body=r.body, created_at=r.created_at, contact_id=_gid("Contact", r.contact_id)
            )
            for r in found
        ]

    @strawberry.field(description="The public replies sent to the contact, oldest first.")
    async def replies(self, info: Info, root: strawberry.Parent[TicketRecord]) -> list[Message]:
        return await resolve.replies(info.context, root)  # type: ignore[return-value]

    @strawberry.field(
        description="Internal notes, public replies (emails) and status changes, newest first."
    )
    async def timeline(
        self,
        info: Info,
        root: strawberry.Parent[TicketRecord],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("schema.timeline")]:
        from schema.timeline import timeline_field

        return await timeline_field(info, "ticket", root.id, first, after)

    satisfaction_score: int | None = strawberry.field(
        description="The contact's survey answer, 1 to 5 (null: not rated)."
    )
    satisfaction_comment: str = strawberry.field(
        description="The contact's survey comment; empty when none."
    )
    rated_at: datetime | None = strawberry.field(
        description="When the contact answered the survey (null: not rated)."
    )
    sla_policy_version: int | None = strawberry.field(
        description="The SLA policy version it opened under (null: no SLA)."
    )

    @strawberry.field(description="Its SLA clocks now (none without an SLA).")
    def sla(self, root: strawberry.Parent[TicketRecord]) -> list[SlaClock]:
        return [SlaClock.of(clock) for clock in sla_clocks(root)]

    @strawberry.field(
        description="Published articles that share the most words with the subject, best first."
    )
    async def suggested_articles(
        self,
        info: Info,
        root: strawberry.Parent[TicketRecord],
        first: Annotated[
            int,
            strawberry.argument(
                description=f"How many to return, at most {MAX_SUGGESTIONS} (more give "
                f"{MAX_SUGGESTIONS}); 5 when left out."
            ),
        ] = 5,
    ) -> list[Annotated[Article, strawberry.lazy("schema.knowledge_base")]]:
        return await resolve_articles.suggested_for(info.context, root, first)  # type: ignore[return-value]

    @strawberry.field(description="Events that may be applied to this ticket now.")
    def allowed_events(self, root: strawberry.Parent[TicketRecord]) -> list[TicketEventEnum]:
        return [TicketEvent(e) for e in resolve.ticket_allowed_events(root)]


@strawberry.type(description="A problem with the input; nothing was changed.")
class TicketError:
    field: str | None = error_field()
    code: TicketErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class TicketPayload:
    ticket: Ticket | None = payload_record("ticket")
    errors: list[TicketError] = payload_errors()


def _payload(outcome: Outcome[TicketRecord]) -> TicketPayload:
    return TicketPayload(
        ticket=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(TicketError, outcome.errors),
    )


@strawberry.type(
    description="What the mutation answers: the reply queued, or the errors that stopped it "
    "(then nothing was sent)."
)
class ReplyToTicketPayload:
    message: Message | None = strawberry.field(
        description="The reply, queued: sent by the worker, with a Reply-To that threads the "
        "answer back to the ticket."
    )
    errors: list[TicketError] = payload_errors()


@strawberry.input(
    description="A new ticket (status New). Without an assignee, the assignment rules choose "
    "its team and the team's next agent. Errors: REQUIRED, TOO_LONG, INVALID, NOT_FOUND (a "
    "customer, contact, assignee or team), FORBIDDEN."
)
class CreateTicketInput:
    subject: str = strawberry.field(description=f"1 to {MAX_SUBJECT_LENGTH} characters.")
    description: str = strawberry.field(
        default="", description=f"The request in full: at most {MAX_DESCRIPTION_LENGTH} characters."
    )
    channel: TicketChannel = strawberry.field(
        default=TicketChannel.API, description="How it came in; API when left out."
    )
    priority: TicketPriority = strawberry.field(
        default=TicketPriority.NORMAL, description="NORMAL when left out."
    )
    category: str = strawberry.field(
        default="", description="At most 50 characters; the assignment rules match on it."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The Customer it is for, if any (one you may see)."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Who asked: public replies go to their first email address."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A User; none leaves it in the team's queue."
    )
    team_id: relay.GlobalID | None = strawberry.field(default=None, description="An OrgUnit.")


@strawberry.input(
    description="Fields left out are unchanged; limits and errors as for createTicket, and "
    "CLOSED (a closed ticket does not change)."
)
class UpdateTicketInput:
    id: relay.GlobalID = strawberry.field(description="The Ticket to change.")
    subject: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"1 to {MAX_SUBJECT_LENGTH} characters."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"At most {MAX_DESCRIPTION_LENGTH} characters."
    )
    priority: TicketPriority | None = strawberry.field(
        default=strawberry.UNSET,
        description="How urgent it is (its SLA targets stay those it opened with).",
    )
    category: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 50 characters."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Customer id, or null to unlink."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Contact id, or null to unlink."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="A User you may hand tickets to (else FORBIDDEN), or null: the team's queue.",
    )
    team_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="An OrgUnit whose queue it is in, or null."
    )


@strawberry.input(description="A lifecycle event to apply to a ticket.")
class TransitionTicketInput:
    id: relay.GlobalID = strawberry.field(description="The Ticket to move.")
    event: TicketEventEnum = strawberry.field(
        description="RESOLVE needs a public reply or a reason, REOPEN the reopen window still "
        "open (else GUARD_FAILED)."
    )
    reason: str = strawberry.field(
        default="",
        description=f"RESOLVE: why, needed without a public reply (at most {MAX_REASON_LENGTH}).",
    )


@strawberry.input(description="A public reply, emailed to the ticket's contact.")
class ReplyToTicketInput:
    id: relay.GlobalID = strawberry.field(
        description="The Ticket (not a closed one, else CLOSED; its contact needs an email "
        "address, else NO_ADDRESS)."
    )
    body: str = strawberry.field(
        description=f"The reply's text: 1 to {MAX_LENGTHS['text_body']} characters."
    )


@strawberry.input(description="Which tickets to list; conditions combine with AND.")
class TicketFilter:
    status_in: list[TicketStatusEnum] | None = strawberry.field(
        default=None, description="Only tickets in one of these statuses."
    )
    priority_in: list[TicketPriority] | None = strawberry.field(
        default=None, description="Only tickets with one of these priorities."
    )
    channel_in: list[TicketChannel] | None = strawberry.field(
        default=None, description="Only tickets that came in one of these ways."
    )
    category: str | None = strawberry.field(
        default=None, description="Only tickets in this category (at most 50 characters)."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tickets assigned to this user."
    )
    unassigned: bool | None = strawberry.field(
        default=None, description="true: only tickets in a queue, with nobody assigned."
    )
    team_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tickets in this team's (OrgUnit's) queue."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tickets of this customer."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tickets of this contact."
    )
    search: str | None = strawberry.field(
        default=None, description="Part of the subject or category, in any letter case."
    )
    created_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_before: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.input(description="How to sort tickets.")
class TicketOrder:
    field: TicketOrderField = strawberry.field(
        default=TicketOrderField.CREATED_AT,
        description="The field to sort by; CREATED_AT when left out.",
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="DESC when left out."
    )


@strawberry.type
class TicketQuery:
    @strawberry.field(description="One ticket by its global id, or null if not visible.")
    async def ticket(self, info: Info, id: RecordId) -> Ticket | None:
        return await resolve.ticket(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description=f"Tickets you may read (support: the agency's); at most {MAX_PAGE_SIZE}."
    )
    async def tickets(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[TicketFilter | None, FILTER] = None,
        order_by: Annotated[TicketOrder | None, ORDER] = None,
    ) -> relay.Connection[Ticket]:
        order = order_by or TicketOrder()
        return await resolve.tickets_page(
            info.context,
            first,
            after,
            filter,
            order.field.value,
            order.direction is OrderDirection.DESC,
        )


@strawberry.type
class TicketMutation:
    @strawberry.mutation(description="Open a ticket (status New). Errors: see CreateTicketInput.")
    async def create_ticket(
        self, info: Info, input: Annotated[CreateTicketInput, MUTATION_INPUT]
    ) -> TicketPayload:
        return _payload(await resolve.create_ticket(info.context, input))

    @strawberry.mutation(
        description="Change a ticket's fields (not a closed one's). Errors: see UpdateTicketInput."
    )
    async def update_ticket(
        self, info: Info, input: Annotated[UpdateTicketInput, MUTATION_INPUT]
    ) -> TicketPayload:
        return _payload(await resolve.update_ticket(info.context, input))

    @strawberry.mutation(
        description="Apply a lifecycle event: START, WAIT_ON_CUSTOMER, CUSTOMER_REPLIED, "
        "RESOLVE (needs a public reply or a reason), REOPEN (within the window), CLOSE. "
        "Illegal ones return INVALID_TRANSITION, unmet conditions GUARD_FAILED; also "
        "NOT_FOUND, FORBIDDEN, TOO_LONG (the reason)."
    )
    async def transition_ticket(
        self, info: Info, input: Annotated[TransitionTicketInput, MUTATION_INPUT]
    ) -> TicketPayload:
        return _payload(
            await resolve.transition_ticket(info.context, input.id, input.event, input.reason)
        )

    @strawberry.mutation(
        description="Email a public reply to the ticket's contact (internal notes: addNote)."
    )
    async def reply_to_ticket(
        self, info: Info, input: Annotated[ReplyToTicketInput, MUTATION_INPUT]
    ) -> ReplyToTicketPayload:
        outcome = await resolve.reply_to_ticket(info.context, input.id, input.body)
        return ReplyToTicketPayload(
            message=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(TicketError, outcome.errors),
        )
