"""The customer portal's types and root fields: a customer's contact, signed in with an
emailed one-time link, follows their customer's tickets and reads the public articles.
`requestPortalLink` and `signInToPortal` are public; the other portal fields answer only a
portal session (`Authorization: Bearer portal_...`), which reaches nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from db.knowledge_base import Article as ArticleRecord
from db.tickets import Ticket as TicketRecord
from db.tickets import TicketPortalReply
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.portal import MAX_REPLY_LENGTH, PortalErrorCode, PortalSession
from domain.tickets import MAX_DESCRIPTION_LENGTH, MAX_SUBJECT_LENGTH, TicketChannel, TicketPriority
from resolvers import portal as resolve
from resolvers.errors import Outcome
from schema.enum_values import error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    After,
    First,
    RecordId,
    error_code,
    error_field,
    error_message,
    payload_errors,
    payload_record,
)
from schema.tickets import TicketStatusEnum

error_code_enum(PortalErrorCode, "PortalErrorCode", "the customer portal")

PORTAL_PUBLIC_FIELDS = frozenset({"requestPortalLink", "signInToPortal"})
PORTAL_FIELDS = frozenset(
    {
        "portalMe",
        "portalTickets",
        "portalTicket",
        "portalArticles",
        "portalArticle",
        "openPortalTicket",
        "replyToPortalTicket",
        "signOutOfPortal",
    }
)


@strawberry.type(description="One public message on a ticket, as the customer sees it.")
class PortalMessage:
    at: datetime = strawberry.field(description="When it was written.")
    from_customer: bool = strawberry.field(
        description="True for your own replies, false for the support team's."
    )
    body: str = strawberry.field(description="The text.")


@strawberry.type(
    description="A ticket of your customer, as the portal shows it: never its internal notes, "
    "assignee or SLA clocks."
)
class PortalTicket:
    subject: str = strawberry.field(description="What it is about.")
    description: str = strawberry.field(description="The request in full; may be empty.")
    channel: TicketChannel = strawberry.field(description="How it came in.")
    priority: TicketPriority = strawberry.field(description="How urgent it is.")
    status: TicketStatusEnum = strawberry.field(
        description="New, Open, Pending (waiting on you), Resolved, Closed."
    )
    created_at: datetime = strawberry.field(description="When it was opened.")
    resolved_at: datetime | None = strawberry.field(description="The last resolution.")

    @strawberry.field(description="The ticket's global id (the same the support team sees).")
    def id(self, root: strawberry.Parent[TicketRecord]) -> relay.GlobalID:
        return relay.GlobalID("Ticket", str(root.id))

    @strawberry.field(description="The public conversation, oldest first.")
    async def conversation(
        self, info: Info, root: strawberry.Parent[TicketRecord]
    ) -> list[PortalMessage]:
        return await resolve.conversation(info.context, root)  # type: ignore[return-value]


@strawberry.type(description="A published public knowledge base article.")
class PortalArticle:
    title: str = strawberry.field(description="What it answers.")
    body: str = strawberry.field(description="The article's text.")
    category: str = strawberry.field(description="Its category; empty when none.")
    published_at: datetime | None = strawberry.field(description="When it was published.")

    @strawberry.field(description="The article's global id.")
    def id(self, root: strawberry.Parent[ArticleRecord]) -> relay.GlobalID:
        return relay.GlobalID("Article", str(root.id))


@strawberry.type(description="Who the portal session is.")
class PortalMe:
    contact_name: str = strawberry.field(description="The signed-in contact's name.")
    customer_name: str = strawberry.field(description="The customer whose tickets they see.")
    agency_name: str = strawberry.field(description="The agency that supports them.")


@strawberry.type(description="A problem with the input; nothing was changed.")
class PortalError:
    field: str | None = error_field()
    code: PortalErrorCode = error_code()
    message: str = error_message()


@strawberry.type(description="The outcome of `requestPortalLink` or `signOutOfPortal`.")
class PortalOkPayload:
    ok: bool = strawberry.field(
        description="True when the request was taken (a link request is, whether or not the "
        "address is known) or the session ended."
    )
    errors: list[PortalError] = payload_errors()


@strawberry.type(description="Send `Authorization: Bearer <token>` with each portal request.")
class PortalSignInPayload:
    token: str | None = payload_record("portal session token")
    expires_at: datetime | None = payload_record("session's end")
    errors: list[PortalError] = payload_errors()


@strawberry.type(description="The ticket as opened, or the errors that stopped it.")
class PortalTicketPayload:
    ticket: PortalTicket | None = payload_record("ticket")
    errors: list[PortalError] = payload_errors()


@strawberry.type(description="Your reply as kept on the ticket.")
class PortalReply:
    body: str = strawberry.field(description="The text.")
    created_at: datetime = strawberry.field(description="When it was written.")


@strawberry.type(description="The reply as kept, or the errors that stopped it.")
class PortalReplyPayload:
    reply: PortalReply | None = payload_record("reply")
    errors: list[PortalError] = payload_errors()


@strawberry.input(description="Where to send a portal sign-in link.")
class RequestPortalLinkInput:
    agency: str = strawberry.field(description="The agency's short name (its slug).")
    email: str = strawberry.field(
        description="Your address; the answer is the same for any address."
    )


@strawberry.input(description="The token of an emailed portal link.")
class SignInToPortalInput:
    token: str = strawberry.field(description="The token at the end of the link; works once.")


@strawberry.input(description="A new ticket of your customer (channel PORTAL).")
class OpenPortalTicketInput:
    subject: str = strawberry.field(description=f"1 to {MAX_SUBJECT_LENGTH} characters.")
    description: str = strawberry.field(
        default="", description=f"At most {MAX_DESCRIPTION_LENGTH} characters."
    )


@strawberry.input(description="Your reply on one of your customer's tickets.")
class ReplyToPortalTicketInput:
    id: relay.GlobalID = strawberry.field(
        description="The ticket's global id (NOT_FOUND for any ticket not of your customer)."
    )
    body: str = strawberry.field(description=f"1 to {MAX_REPLY_LENGTH} characters.")


def _ok(outcome: Outcome[bool]) -> PortalOkPayload:
    return PortalOkPayload(ok=bool(outcome.value), errors=errors_as(PortalError, outcome.errors))


@strawberry.type
class PortalQuery:
    @strawberry.field(description="Who the portal session is (portal sessions only).")
    async def portal_me(self, info: Info) -> PortalMe:
        return await resolve.whoami(info.context)  # type: ignore[return-value]

    @strawberry.field(
        description=f"Your customer's tickets, newest first; at most {MAX_PAGE_SIZE} "
        "(portal sessions only)."
    )
    async def portal_tickets(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> relay.Connection[PortalTicket]:  # type: ignore[type-var]
        return await resolve.tickets_page(info.context, first, after)  # type: ignore[no-any-return]

    @strawberry.field(
        description="One of your customer's tickets, or null (any other ticket is null too)."
    )
    async def portal_ticket(self, info: Info, id: RecordId) -> PortalTicket | None:
        return await resolve.ticket(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description="The agency's published public articles, newest first; `search` is text "
        "search (portal sessions only)."
    )
    async def portal_articles(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        search: Annotated[
            str | None,
            strawberry.argument(
                description="Text search over the title, category and the body's start."
            ),
        ] = None,
    ) -> relay.Connection[PortalArticle]:  # type: ignore[type-var]
        page: Any = await resolve.articles_page(info.context, first, after, search)
        return page  # type: ignore[no-any-return]

    @strawberry.field(description="One published public article, or null.")
    async def portal_article(self, info: Info, id: RecordId) -> PortalArticle | None:
        return await resolve.article(info.context, id)  # type: ignore[return-value]


@strawberry.type
class PortalMutation:
    @strawberry.mutation(
        description="Email a one-time portal sign-in link to a contact of one of the agency's "
        "customers; the same answer for any address. Errors: INVALID_EMAIL, TOO_MANY_ATTEMPTS."
    )
    async def request_portal_link(
        self, info: Info, input: Annotated[RequestPortalLinkInput, MUTATION_INPUT]
    ) -> PortalOkPayload:
        return _ok(await resolve.request_link(info.context, input.agency, input.email))

    @strawberry.mutation(
        description="Trade an emailed link's token (once) for a portal session token. "
        "Errors: INVALID_LINK."
    )
    async def sign_in_to_portal(
        self, info: Info, input: Annotated[SignInToPortalInput, MUTATION_INPUT]
    ) -> PortalSignInPayload:
        outcome: Outcome[PortalSession] = await resolve.sign_in(info.context, input.token)
        session = outcome.value
        return PortalSignInPayload(
            token=session.token if session else None,
            expires_at=session.expires_at if session else None,
            errors=errors_as(PortalError, outcome.errors),
        )

    @strawberry.mutation(description="End the portal session (portal sessions only).")
    async def sign_out_of_portal(self, info: Info) -> PortalOkPayload:
        return _ok(await resolve.sign_out(info.context))

    @strawberry.mutation(description="Open a ticket for your customer. Errors: REQUIRED, TOO_LONG.")
    async def open_portal_ticket(
        self, info: Info, input: Annotated[OpenPortalTicketInput, MUTATION_INPUT]
    ) -> PortalTicketPayload:
        outcome = await resolve.open_ticket(info.context, input.subject, input.description)
        return PortalTicketPayload(
            ticket=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(PortalError, outcome.errors),
        )

    @strawberry.mutation(
        description="Reply on one of your customer's tickets: a Pending one (or a Resolved one "
        "within the reopen window) is Open again. Errors: REQUIRED, TOO_LONG, NOT_FOUND, CLOSED."
    )
    async def reply_to_portal_ticket(
        self, info: Info, input: Annotated[ReplyToPortalTicketInput, MUTATION_INPUT]
    ) -> PortalReplyPayload:
        outcome: Outcome[TicketPortalReply] = await resolve.reply(
            info.context, input.id, input.body
        )
        return PortalReplyPayload(
            reply=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(PortalError, outcome.errors),
        )
