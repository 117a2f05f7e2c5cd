"""Keyset (cursor) pagination: stable under inserts, and as fast on page 1,000 as on page 1."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar
from uuid import UUID

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from domain.errors import DomainError

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

M = TypeVar("M", bound=Model)


class PageErrorCode(StrEnum):
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"


@dataclass(frozen=True, slots=True)
class Ordering:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[M]):
    items: list[M]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(value: Any, pk: UUID | int) -> str:
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    elif isinstance(value, date):  # a calendar date (e.g. a deal's expected close date)
        value = {"d": value.isoformat()}
    elif isinstance(value, UUID):
        value = str(value)
    raw = json.dumps([value, str(pk) if isinstance(pk, UUID) else pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, UUID | int]:
    """The sort value and primary key (a UUID, or an integer for append-only tables)."""
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(value, dict):
            value = (
                date.fromisoformat(value["d"])
                if "d" in value
                else datetime.fromisoformat(value["dt"])
            )
        if isinstance(pk, bool) or not isinstance(pk, int | str):
            raise TypeError(pk)
        return value, pk if isinstance(pk, int) else UUID(pk)
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise DomainError(
            PageErrorCode.INVALID_CURSOR, "The cursor is not one this API gave out.", "after"
        ) from exc


def check_page_size(first: int) -> None:
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise DomainError(
            PageErrorCode.INVALID_PAGE_SIZE,
            f"`first` must be between 0 and {MAX_PAGE_SIZE}; got {first}.",
            "first",
        )


async def keyset_page(
    query: QuerySet[M], ordering: Ordering, first: int, after: str | None
) -> Page[M]:
    """One page of `query` ordered by (ordering.field, id), starting after `after`."""
    check_page_size(first)
    field, desc = ordering.field, ordering.descending
    if after is not None:
        value, pk = decode_cursor(after)
        beyond = "lt" if desc else "gt"
        query = query.filter(
            Q(**{f"{field}__{beyond}": value}) | Q(**{field: value, f"id__{beyond}": pk})
        )
    sign = "-" if desc else ""
    rows = await query.order_by(f"{sign}{field}", f"{sign}id").limit(first + 1)
    items = rows[:first]
    return Page(
        items=items,
        cursors=[encode_cursor(getattr(r, field), r.pk) for r in items],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
    )


async def nullable_keyset_page(
    query: QuerySet[M], ordering: Ordering, first: int, after: str | None
) -> Page[M]:
    """Like `keyset_page`, for a sort value that may be null (e.g. a custom field's): records
    without a value come last in either direction, ordered by id among themselves. A cursor
    holds the value (null for those) and the id.

    Databases disagree on where NULL sorts, so the page is read in two parts, each a plain
    `ORDER BY value, id` that an index on (..., value, id) hands over in order: records with a
    value beyond the cursor, then, when those run out, records without one. The comparison
    on the value alone (`<=` or `>=`) is there for the index: PostgreSQL starts its scan at the
    cursor instead of filtering every entry before it.
    """
    check_page_size(first)
    field, desc = ordering.field, ordering.descending
    beyond = "lt" if desc else "gt"
    sign = "-" if desc else ""
    value: Any = None
    pk: UUID | int | None = None
    if after is not None:
        value, pk = decode_cursor(after)
    rows: list[M] = []
    if after is None or value is not None:
        valued = query.filter(**{f"{field}__isnull": False})
        if after is not None:
            valued = valued.filter(
                Q(**{f"{field}__{beyond}e": value}),
                Q(**{f"{field}__{beyond}": value}) | Q(**{field: value, f"id__{beyond}": pk}),
            )
        rows = list(await valued.order_by(f"{sign}{field}", f"{sign}id").limit(first + 1))
    if len(rows) <= first:
        missing = query.filter(**{f"{field}__isnull": True})
        if after is not None and value is None:
            missing = missing.filter(**{f"id__{beyond}": pk})
        rows += await missing.order_by(f"{sign}id").limit(first + 1 - len(rows))
    items = rows[:first]
    return Page(
        items=items,
        cursors=[encode_cursor(getattr(r, field), r.pk) for r in items],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
    )
