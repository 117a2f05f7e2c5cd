"""Knowledge base types, inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.knowledge_base import (
    MAX_BODY_LENGTH,
    ArticleErrorCode,
    ArticleStatus,
    ArticleVisibility,
)
from domain.knowledge_base import Article as ArticleRecord
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import knowledge_base as resolve
from resolvers import related
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    FILTER,
    MUTATION_INPUT,
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

error_code_enum(ArticleErrorCode, "ArticleErrorCode", "knowledge base articles")
described_enum(
    ArticleStatus,
    "ArticleStatus",
    "Whether an article is out for its readers.",
    {
        "DRAFT": "Being written: only its writers (admins and support) see it.",
        "PUBLISHED": "Out: everyone who may read the knowledge base sees it, and tickets "
        "suggest it.",
    },
)
described_enum(
    ArticleVisibility,
    "ArticleVisibility",
    "Who an article is for.",
    {
        "INTERNAL": "The agency's people only.",
        "PUBLIC": "Also meant for customers once published.",
    },
)


@strawberry.type(
    description="A knowledge base article: a draft until published; internal (staff) or "
    "public (customers may read it once published)."
)
class Article(relay.Node):
    id: relay.NodeID[str] = node_id()
    title: str = strawberry.field(description="What it answers (never empty).")
    body: str = strawberry.field(description="The article's text; may be empty.")
    category: str = strawberry.field(description="Its category; empty when none.")
    status: ArticleStatus = strawberry.field(description="Draft or published.")
    visibility: ArticleVisibility = strawberry.field(description="Who it is for.")
    published_at: datetime | None = strawberry.field(
        description="When it was first published; null while never published."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, ArticleRecord))

    @strawberry.field(description="Who wrote it (null: an API key, or someone you cannot see).")
    async def author(
        self, info: Info, root: strawberry.Parent[ArticleRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.author_user_id)  # type: ignore[return-value]


@strawberry.type(description="A problem with the input; nothing was changed.")
class ArticleError:
    field: str | None = error_field()
    code: ArticleErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class ArticlePayload:
    article: Article | None = payload_record("article")
    errors: list[ArticleError] = payload_errors()


def _payload(outcome: Outcome[ArticleRecord]) -> ArticlePayload:
    return ArticlePayload(
        article=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(ArticleError, outcome.errors),
    )


@strawberry.input(
    description="A new article. Errors: REQUIRED, TOO_LONG, INVALID, FORBIDDEN (only admins "
    "and support write)."
)
class CreateArticleInput:
    title: str = strawberry.field(description="1 to 200 characters.")
    body: str = strawberry.field(
        default="", description=f"The text: at most {MAX_BODY_LENGTH} characters."
    )
    category: str = strawberry.field(
        default="", description="At most 50 characters; empty when left out."
    )
    visibility: ArticleVisibility = strawberry.field(
        default=ArticleVisibility.INTERNAL, description="INTERNAL when left out."
    )
    status: ArticleStatus = strawberry.field(
        default=ArticleStatus.DRAFT, description="DRAFT when left out; PUBLISHED publishes now."
    )


@strawberry.input(
    description="Fields left out are unchanged; status PUBLISHED publishes. Limits and errors "
    "as for createArticle, and NOT_FOUND."
)
class UpdateArticleInput:
    id: relay.GlobalID = strawberry.field(description="The Article to change.")
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters."
    )
    body: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"At most {MAX_BODY_LENGTH} characters."
    )
    category: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 50 characters; empty: none."
    )
    visibility: ArticleVisibility | None = strawberry.field(
        default=strawberry.UNSET, description="Who it is for."
    )
    status: ArticleStatus | None = strawberry.field(
        default=strawberry.UNSET,
        description="PUBLISHED publishes (its first time sets `publishedAt`); DRAFT unpublishes.",
    )


@strawberry.input(description="Which articles to list; conditions combine with AND.")
class ArticleFilter:
    search: str | None = strawberry.field(
        default=None, description="Words of the title, category or body, in any letter case."
    )
    category: str | None = strawberry.field(
        default=None, description="Only articles in this category (exact)."
    )
    status: ArticleStatus | None = strawberry.field(
        default=None, description="Only articles with this status (readers see PUBLISHED only)."
    )
    visibility: ArticleVisibility | None = strawberry.field(
        default=None, description="Only articles with this visibility."
    )


@strawberry.type
class KnowledgeBaseQuery:
    @strawberry.field(description="One article by its global id, or null if not visible.")
    async def article(self, info: Info, id: RecordId) -> Article | None:
        return await resolve.article(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description=f"Articles (drafts too for their writers), newest first; at most "
        f"{MAX_PAGE_SIZE}."
    )
    async def articles(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[ArticleFilter | None, FILTER] = None,
    ) -> relay.Connection[Article]:
        return await resolve.articles_page(info.context, first, after, filter)


@strawberry.type
class KnowledgeBaseMutation:
    @strawberry.mutation(
        description="Write an article (admins and support). Errors: see CreateArticleInput."
    )
    async def create_article(
        self, info: Info, input: Annotated[CreateArticleInput, MUTATION_INPUT]
    ) -> ArticlePayload:
        return _payload(await resolve.create_article(info.context, input))

    @strawberry.mutation(
        description="Change, publish or unpublish an article (admins and support). Errors: see "
        "UpdateArticleInput."
    )
    async def update_article(
        self, info: Info, input: Annotated[UpdateArticleInput, MUTATION_INPUT]
    ) -> ArticlePayload:
        return _payload(await resolve.update_article(info.context, input))
