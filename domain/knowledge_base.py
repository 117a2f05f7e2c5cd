"""Knowledge base service: articles support writes and answers from.

Admins and support write articles (drafts until published, internal or public, with a
category); every person who may read the knowledge base reads the published ones, and the
writers also the drafts. Text search looks in the title, the category and the start of the
body (the records' one search column). A ticket's suggestions are the published articles
sharing the most words of its subject.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.knowledge_base import Article as Article
from domain.actors import Actor
from domain.audit import changed_fields
from domain.errors import DomainError, validated
from domain.field_types import SearchTerm, input_codes
from domain.pagination import Ordering, Page, keyset_page
from domain.policies import require, scope
from domain.record_changes import record_created, record_updated
from domain.roles import Access, Resource, RowScope

AGGREGATE = "article"
MAX_BODY_LENGTH = 100_000
MAX_SUGGESTIONS = 10
# Words too common to say what a subject is about.
_STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "that",
        "this",
        "have",
        "your",
        "not",
        "can",
        "cannot",
        "does",
        "when",
        "what",
        "how",
        "why",
        "our",
        "you",
        "are",
        "was",
        "were",
        "will",
        "please",
        "help",
        "issue",
        "problem",
        "question",
    ]
)
_WORD = re.compile(r"[\w-]{3,}")


class ArticleErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ArticleVisibility(StrEnum):
    INTERNAL = "internal"
    PUBLIC = "public"


_CODES = input_codes(ArticleErrorCode)


class ArticleChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    body: Annotated[str, StringConstraints(max_length=MAX_BODY_LENGTH)] = ""
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    visibility: ArticleVisibility = ArticleVisibility.INTERNAL
    status: ArticleStatus = ArticleStatus.DRAFT


class ArticleFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    search: SearchTerm | None = None
    category: str | None = None
    status: ArticleStatus | None = None
    visibility: ArticleVisibility | None = None


class ArticleOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


NEWEST_FIRST = Ordering(ArticleOrderField.CREATED_AT, descending=True)


def snapshot(article: Article) -> dict[str, Any]:
    return {
        "id": str(article.id),
        "title": article.title,
        "category": article.category,
        "visibility": article.visibility,
        "status": article.status,
        "body_length": len(article.body),
    }


def _validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return validated(model, data, _CODES, ArticleErrorCode.INVALID)


def readable(actor: Actor) -> QuerySet[Article]:
    """Articles the actor may read: writers every live one, readers the published ones."""
    require(actor, Resource.KNOWLEDGE_BASE, Access.READ)
    query = Article.filter(agency_id=actor.agency_id, deleted_at__isnull=True)
    if scope(actor, Resource.KNOWLEDGE_BASE, Access.WRITE) is RowScope.NONE:
        query = query.filter(status=ArticleStatus.PUBLISHED)
    return query


def _not_found(article_id: UUID) -> DomainError:
    return DomainError(ArticleErrorCode.NOT_FOUND, f"No article with id {article_id}.", "id")


async def get_article(actor: Actor, article_id: UUID) -> Article:
    found = await readable(actor).get_or_none(id=article_id)
    if found is None:
        raise _not_found(article_id)
    return found


async def list_articles(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering = NEWEST_FIRST,
) -> Page[Article]:
    query = readable(actor)
    if criteria:
        where: ArticleFilter = _validate(ArticleFilter, criteria)
        if where.search:
            query = query.filter(Article.matching(where.search))
        for name in ("category", "status", "visibility"):
            value = getattr(where, name)
            if value is not None:
                query = query.filter(**{name: str(value)})
    return await keyset_page(query, ordering, first, after)


def _stamp(article: Article) -> None:
    if article.status == ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = datetime.now(UTC)


async def create_article(actor: Actor, data: dict[str, Any]) -> Article:
    require(actor, Resource.KNOWLEDGE_BASE, Access.WRITE)
    fields = _validate(ArticleChanges, data).model_dump()
    async with in_transaction() as conn:
        article = Article(agency_id=actor.agency_id, author_user_id=actor.user_id, **fields)
        _stamp(article)
        await article.save(using_db=conn)
        await record_created(actor, AGGREGATE, str(article.id), snapshot(article), conn)
    return article


async def update_article(actor: Actor, article_id: UUID, data: dict[str, Any]) -> Article:
    """Change the fields given; `status: published` publishes, `draft` takes it back."""
    require(actor, Resource.KNOWLEDGE_BASE, Access.WRITE)
    changes: ArticleChanges = _validate(ArticleChanges, {"title": "-", **data})
    fields = changes.model_dump(include=set(data))
    async with in_transaction() as conn:
        article = (
            await readable(actor).using_db(conn).select_for_update().get_or_none(id=article_id)
        )
        if article is None:
            raise _not_found(article_id)
        before = snapshot(article)
        article.update_from_dict(fields)
        _stamp(article)
        await article.save(using_db=conn)
        old, new = changed_fields(before, snapshot(article))
        if new:
            await record_updated(actor, AGGREGATE, str(article.id), old, new, conn)
    return article


def subject_words(subject: str) -> list[str]:
    """The words of a subject that say what it is about (at most eight, longest first)."""
    words = {w for w in _WORD.findall(subject.lower()) if w not in _STOP_WORDS}
    return sorted(words, key=lambda w: (-len(w), w))[:8]


async def suggestions(
    actor: Actor, subject: str, first: int = 5, public_only: bool = False
) -> list[Article]:
    """Published articles sharing the most words of the subject, best first."""
    words = subject_words(subject)
    if not words:
        return []
    query = readable(actor).filter(status=ArticleStatus.PUBLISHED)
    if public_only:
        query = query.filter(visibility=ArticleVisibility.PUBLIC)
    matching = Q(*[Q(search_text__contains=w) for w in words], join_type=Q.OR)
    found = await query.filter(matching).limit(200)

    def shared(article: Article) -> int:
        return sum(word in article.search_text for word in words)

    ranked = sorted(found, key=lambda a: (-shared(a), a.title))
    return ranked[: min(first, MAX_SUGGESTIONS)]


async def articles_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, Article]:
    return {a.id: a for a in await readable(actor).filter(id__in=list(ids))}
