"""Customer portal resolvers: thin calls into domain.portal, for portal sessions only."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from graphql import GraphQLError
from strawberry import relay

from db.knowledge_base import Article
from db.tickets import Ticket, TicketPortalReply
from domain import portal
from domain.actors import Actor
from domain.errors import DomainError
from domain.policies import AccessErrorCode
from domain.portal import ConversationEntry, PortalErrorCode, PortalSession, Whoami
from domain.signed_links import InvalidLink, LinkConfig
from resolvers.context import RequestContext, unauthenticated
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import node_uuid
from resolvers.pagination import connection


def portal_actor_of(context: RequestContext) -> Actor:
    """The portal session's actor; a staff caller is FORBIDDEN here (the staff API is theirs)."""
    if context.actor is None:
        raise unauthenticated(context)
    if not context.actor.is_portal:
        raise GraphQLError(
            "Only a customer portal session uses the portal's fields.",
            extensions={"code": AccessErrorCode.FORBIDDEN.value},
        )
    return context.actor


def _links(context: RequestContext) -> LinkConfig:
    if context.links is None:
        raise DomainError(PortalErrorCode.INVALID_LINK, "The portal is not offered here.")
    return context.links


def _ticket_id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, "Ticket", PortalErrorCode)


async def request_link(context: RequestContext, agency: str, email: str) -> Outcome[bool]:
    async def request() -> bool:
        await portal.request_sign_in_link(
            _links(context), context.portal_limits, agency, email, context.client_address
        )
        return True

    return await attempt(PortalErrorCode, request)


async def sign_in(context: RequestContext, token: str) -> Outcome[PortalSession]:
    async def exchange() -> PortalSession:
        try:
            return await portal.sign_in(_links(context), token)
        except InvalidLink as exc:
            raise DomainError(
                PortalErrorCode.INVALID_LINK,
                "The link is forged, altered, expired or used already: ask for a new one.",
                "token",
            ) from exc

    return await attempt(PortalErrorCode, exchange)


async def sign_out(context: RequestContext) -> Outcome[bool]:
    actor = portal_actor_of(context)

    async def end() -> bool:
        await portal.sign_out(actor)
        return True

    return await attempt(PortalErrorCode, end)


async def whoami(context: RequestContext) -> Whoami:
    return await answer(portal.whoami(portal_actor_of(context)))


async def tickets_page(context: RequestContext, first: int, after: str | None) -> Any:
    actor = portal_actor_of(context)
    return connection(await answer(portal.list_tickets(actor, first, after)))


async def ticket(context: RequestContext, global_id: relay.GlobalID) -> Ticket | None:
    actor = portal_actor_of(context)
    return await found_or_none(lambda: portal.get_ticket(actor, _ticket_id(global_id)))


async def open_ticket(context: RequestContext, subject: str, description: str) -> Outcome[Ticket]:
    actor = portal_actor_of(context)
    return await attempt(PortalErrorCode, lambda: portal.open_ticket(actor, subject, description))


async def reply(
    context: RequestContext, global_id: relay.GlobalID, body: str
) -> Outcome[TicketPortalReply]:
    actor = portal_actor_of(context)
    return await attempt(PortalErrorCode, lambda: portal.reply(actor, _ticket_id(global_id), body))


async def conversation(context: RequestContext, record: Ticket) -> list[ConversationEntry]:
    return await answer(portal.conversation(portal_actor_of(context), record))


async def articles_page(
    context: RequestContext, first: int, after: str | None, search: str | None
) -> Any:
    actor = portal_actor_of(context)
    return connection(await answer(portal.list_articles(actor, first, after, search)))


async def article(context: RequestContext, global_id: relay.GlobalID) -> Article | None:
    actor = portal_actor_of(context)
    return await found_or_none(
        lambda: portal.get_article(actor, node_uuid(global_id, "Article", PortalErrorCode))
    )
