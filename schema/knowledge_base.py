"""Knowledge base types, inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.knowledge_base import Article as ArticleRecord
from domain.knowledge_base import ArticleErrorCode, ArticleStatus, ArticleVisibility
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import knowledge_base as resolve
from resolvers import related
from resolvers.errors import Outcome
from schema.payloads import errors_as
from schema.users import UserSummary

strawberry.enum(ArticleErrorCode, name="ArticleErrorCode")
strawberry.enum(ArticleStatus, name="ArticleStatus")
strawberry.enum(ArticleVisibility, name="ArticleVisibility")


@strawberry.type(
    description="A knowledge base article: a draft until published; internal (staff) or "
    "public (customers may read it once published)."
)
class Article(relay.Node):
    id: relay.NodeID[str]
    title: str
    body: str
    category: str
    status: ArticleStatus
    visibility: ArticleVisibility
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, ArticleRecord))

    @strawberry.field(description="Who wrote it (null: an API key, or someone you cannot see).")
    async def author(
        self, info: Info, root: strawberry.Parent[ArticleRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.author_user_id)  # type: ignore[return-value]


@strawberry.type
class ArticleError:
    field: str | None
    code: ArticleErrorCode
    message: str


@strawberry.type
class ArticlePayload:
    article: Article | None
    errors: list[ArticleError]


def _payload(outcome: Outcome[ArticleRecord]) -> ArticlePayload:
    return ArticlePayload(
        article=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(ArticleError, outcome.errors),
    )


@strawberry.input
class CreateArticleInput:
    title: str
    body: str = ""
    category: str = ""
    visibility: ArticleVisibility = ArticleVisibility.INTERNAL
    status: ArticleStatus = ArticleStatus.DRAFT


@strawberry.input(description="Fields left out are unchanged; status PUBLISHED publishes.")
class UpdateArticleInput:
    id: relay.GlobalID
    title: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    visibility: ArticleVisibility | None = strawberry.UNSET
    status: ArticleStatus | None = strawberry.UNSET


@strawberry.input
class ArticleFilter:
    search: str | None = strawberry.field(
        default=None, description="Words of the title, category or body, in any letter case."
    )
    category: str | None = None
    status: ArticleStatus | None = None
    visibility: ArticleVisibility | None = None


@strawberry.type
class KnowledgeBaseQuery:
    @strawberry.field(description="One article by its global id, or null if not visible.")
    async def article(self, info: Info, id: relay.GlobalID) -> Article | None:
        return await resolve.article(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description=f"Articles (drafts too for their writers), newest first; at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def articles(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ArticleFilter | None = None,
    ) -> relay.Connection[Article]:
        return await resolve.articles_page(info.context, first, after, filter)


@strawberry.type
class KnowledgeBaseMutation:
    @strawberry.mutation(description="Write an article (admins and support).")
    async def create_article(self, info: Info, input: CreateArticleInput) -> ArticlePayload:
        return _payload(await resolve.create_article(info.context, input))

    @strawberry.mutation(description="Change, publish or unpublish an article.")
    async def update_article(self, info: Info, input: UpdateArticleInput) -> ArticlePayload:
        return _payload(await resolve.update_article(info.context, input))
