"""The criteria every sales record list takes (contacts, customers, leads, deals, calling
tasks): status, text search, tags, creation dates and custom fields, applied one way.

A record's own filter extends `RecordFilter` with its exact-match fields (owner, links) and
any range of its own (a deal's expected close, a task's due time).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict
from tortoise.queryset import QuerySet

from db.search import Searchable
from domain import tags
from domain.actors import Actor
from domain.custom_field_queries import CustomFieldConditions, matching
from domain.field_types import SearchTerm, Tags

S = TypeVar("S", bound=Searchable)


class RecordFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status_in: list[str] | None = None
    search: SearchTerm | None = None
    tags: Tags | None = None
    tags_any: Tags | None = None
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    custom_fields: CustomFieldConditions | None = None


async def filtered(
    query: QuerySet[S],
    actor: Actor,
    record_type: str,
    where: RecordFilter,
    exact: Iterable[str] = (),
) -> QuerySet[S]:
    """`query` narrowed by the shared criteria and by the `exact` fields of `where` given."""
    query = query.filter(**where.model_dump(include=set(exact), exclude_none=True))
    if where.status_in is not None:
        query = query.filter(status__in=where.status_in)
    if where.created_after is not None:
        query = query.filter(created_at__gte=where.created_after)
    if where.created_before is not None:
        query = query.filter(created_at__lt=where.created_before)
    if where.search:
        query = query.filter(query.model.matching(where.search))
    query = tags.with_tags(query, actor, record_type, where.tags or (), where.tags_any or ())
    return await matching(actor, record_type, query, where.custom_fields)
