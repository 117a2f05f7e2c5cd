"""Knowledge base resolvers: thin calls into domain.knowledge_base."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import knowledge_base
from domain.knowledge_base import Article, ArticleErrorCode, ArticleOrderField
from domain.pagination import Ordering
from domain.tickets import Ticket
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid
from resolvers.pagination import connection

TYPE_NAME = "Article"


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, ArticleErrorCode)


async def article(context: RequestContext, global_id: relay.GlobalID) -> Article | None:
    actor = actor_of(context)
    return await found_or_none(lambda: knowledge_base.get_article(actor, _id(global_id)))


async def articles_page(
    context: RequestContext, first: int, after: str | None, where: Any
) -> relay.Connection[Any]:
    actor = actor_of(context)
    criteria = given(where) if where is not None else None
    ordering = Ordering(ArticleOrderField.CREATED_AT, descending=True)
    page = await answer(knowledge_base.list_articles(actor, first, after, criteria, ordering))
    return connection(page)


async def create_article(context: RequestContext, data: Any) -> Outcome[Article]:
    actor = actor_of(context)
    return await attempt(
        ArticleErrorCode, lambda: knowledge_base.create_article(actor, given(data))
    )


async def update_article(context: RequestContext, data: Any) -> Outcome[Article]:
    actor = actor_of(context)

    async def update() -> Article:
        fields = given(data)
        return await knowledge_base.update_article(actor, _id(fields.pop("id")), fields)

    return await attempt(ArticleErrorCode, update)


async def suggested_for(context: RequestContext, ticket: Ticket, first: int) -> list[Article]:
    """Published articles for the ticket's subject (none for a caller who reads no articles)."""
    actor = actor_of(context)
    return await answer(knowledge_base.suggestions(actor, ticket.subject, first))
