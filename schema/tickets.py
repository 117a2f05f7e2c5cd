"""Ticket types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.lifecycles.ticket import TicketEvent, TicketStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.tickets import (
    MAX_REASON_LENGTH,
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
from schema.messages import Message
from schema.payloads import errors_as
from schema.record_filters import OrderDirection
from schema.service_levels import SlaClock
from schema.users import UserSummary

if TYPE_CHECKING:
    from schema.contacts import Contact
    from schema.customers import Customer
    from schema.knowledge_base import Article
    from schema.timeline import TimelineConnection

    TicketStatusEnum = StrEnum
    TicketEventEnum = StrEnum
else:
    TicketStatusEnum = strawberry.enum(TicketStatus, name="TicketStatus")
    TicketEventEnum = strawberry.enum(TicketEvent, name="TicketEvent")

strawberry.enum(TicketErrorCode, name="TicketErrorCode")
strawberry.enum(TicketOrderField, name="TicketOrderField")
strawberry.enum(TicketChannel, name="TicketChannel")
strawberry.enum(TicketPriority, name="TicketPriority")


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(
    description="A customer's request to the support team: New, Open, Pending (waiting on the "
    "customer), Resolved (may be reopened for the agency's ticketReopenDays), Closed."
)
class Ticket(relay.Node):
    id: relay.NodeID[str]
    subject: str
    description: str
    channel: TicketChannel
    priority: TicketPriority
    category: str
    status: TicketStatusEnum
    resolution_reason: str = strawberry.field(
        description="Why it was resolved, if a reason was given."
    )
    first_response_at: datetime | None = strawberry.field(
        description="When the first public reply was written."
    )
    resolved_at: datetime | None = strawberry.field(description="The last resolution.")
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, TicketRecord))

    @strawberry.field
    def customer_id(self, root: strawberry.Parent[TicketRecord]) -> relay.GlobalID | None:
        return _gid("Customer", root.customer_id)

    @strawberry.field
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
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("schema.timeline")]:
        from schema.timeline import timeline_field

        return await timeline_field(info, "ticket", root.id, first, after)

    satisfaction_score: int | None = strawberry.field(
        description="The contact's survey answer, 1 to 5 (null: not rated)."
    )
    satisfaction_comment: str
    rated_at: datetime | None
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
        self, info: Info, root: strawberry.Parent[TicketRecord], first: int = 5
    ) -> list[Annotated[Article, strawberry.lazy("schema.knowledge_base")]]:
        return await resolve_articles.suggested_for(info.context, root, first)  # type: ignore[return-value]

    @strawberry.field(description="Events that may be applied to this ticket now.")
    def allowed_events(self, root: strawberry.Parent[TicketRecord]) -> list[TicketEventEnum]:
        return [TicketEvent(e) for e in resolve.ticket_allowed_events(root)]


@strawberry.type
class TicketError:
    field: str | None
    code: TicketErrorCode
    message: str


@strawberry.type
class TicketPayload:
    ticket: Ticket | None
    errors: list[TicketError]


def _payload(outcome: Outcome[TicketRecord]) -> TicketPayload:
    return TicketPayload(
        ticket=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(TicketError, outcome.errors),
    )


@strawberry.type
class ReplyToTicketPayload:
    message: Message | None = strawberry.field(
        description="The reply, queued: sent by the worker, with a Reply-To that threads the "
        "answer back to the ticket."
    )
    errors: list[TicketError]


@strawberry.input(description="A new ticket (status New).")
class CreateTicketInput:
    subject: str
    description: str = ""
    channel: TicketChannel = TicketChannel.API
    priority: TicketPriority = TicketPriority.NORMAL
    category: str = ""
    customer_id: relay.GlobalID | None = None
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Who asked: public replies go to their first email address."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A User; none leaves it in the team's queue."
    )
    team_id: relay.GlobalID | None = strawberry.field(default=None, description="An OrgUnit.")


@strawberry.input(description="Fields left out are unchanged.")
class UpdateTicketInput:
    id: relay.GlobalID
    subject: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    priority: TicketPriority | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    customer_id: relay.GlobalID | None = strawberry.UNSET
    contact_id: relay.GlobalID | None = strawberry.UNSET
    assignee_id: relay.GlobalID | None = strawberry.UNSET
    team_id: relay.GlobalID | None = strawberry.UNSET


@strawberry.input
class TransitionTicketInput:
    id: relay.GlobalID
    event: TicketEventEnum
    reason: str = strawberry.field(
        default="",
        description=f"RESOLVE: why, needed without a public reply (at most {MAX_REASON_LENGTH}).",
    )


@strawberry.input(description="A public reply, emailed to the ticket's contact.")
class ReplyToTicketInput:
    id: relay.GlobalID
    body: str


@strawberry.input
class TicketFilter:
    status_in: list[TicketStatusEnum] | None = None
    priority_in: list[TicketPriority] | None = None
    channel_in: list[TicketChannel] | None = None
    category: str | None = None
    assignee_id: relay.GlobalID | None = None
    unassigned: bool | None = strawberry.field(
        default=None, description="true: only tickets in a queue, with nobody assigned."
    )
    team_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None
    contact_id: relay.GlobalID | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the subject or category, in any letter case."
    )
    created_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_before: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.input
class TicketOrder:
    field: TicketOrderField = TicketOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.type
class TicketQuery:
    @strawberry.field(description="One ticket by its global id, or null if not visible.")
    async def ticket(self, info: Info, id: relay.GlobalID) -> Ticket | None:
        return await resolve.ticket(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description=f"Tickets you may read (support: the agency's); at most {MAX_PAGE_SIZE}."
    )
    async def tickets(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: TicketFilter | None = None,
        order_by: TicketOrder | None = None,
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
    @strawberry.mutation(description="Open a ticket (status New).")
    async def create_ticket(self, info: Info, input: CreateTicketInput) -> TicketPayload:
        return _payload(await resolve.create_ticket(info.context, input))

    @strawberry.mutation(description="Change a ticket's fields (not a closed one's).")
    async def update_ticket(self, info: Info, input: UpdateTicketInput) -> TicketPayload:
        return _payload(await resolve.update_ticket(info.context, input))

    @strawberry.mutation(
        description="Apply a lifecycle event: START, WAIT_ON_CUSTOMER, CUSTOMER_REPLIED, "
        "RESOLVE (needs a public reply or a reason), REOPEN (within the window), CLOSE."
    )
    async def transition_ticket(self, info: Info, input: TransitionTicketInput) -> TicketPayload:
        return _payload(
            await resolve.transition_ticket(info.context, input.id, input.event, input.reason)
        )

    @strawberry.mutation(
        description="Email a public reply to the ticket's contact (internal notes: addNote)."
    )
    async def reply_to_ticket(self, info: Info, input: ReplyToTicketInput) -> ReplyToTicketPayload:
        outcome = await resolve.reply_to_ticket(info.context, input.id, input.body)
        return ReplyToTicketPayload(
            message=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(TicketError, outcome.errors),
        )
