"""Keyset (cursor) pagination: stable under inserts, and as fast on page 1,000 as on page 1."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar, overload
from uuid import UUID

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from domain.errors import DomainError
from domain.rows import Row, read_rows

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

M = TypeVar("M", bound=Model)
T = TypeVar("T")


class PageErrorCode(StrEnum):
    INVALID_CURSOR = "INVALID_CURSOR"
    INVALID_PAGE_SIZE = "INVALID_PAGE_SIZE"


@dataclass(frozen=True, slots=True)
class Ordering:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
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


async def _fetch(query: QuerySet[M], row_type: type[Row[M]] | None) -> list[Any]:
    """Model objects, or rows of `row_type` when given (see `domain.rows`)."""
    return await query if row_type is None else await read_rows(query, row_type)


@overload
async def keyset_page(
    query: QuerySet[M], ordering: Ordering, first: int, after: str | None
) -> Page[M]: ...


@overload
async def keyset_page(
    query: QuerySet[M],
    ordering: Ordering,
    first: int,
    after: str | None,
    row_type: type[Row[M]],
) -> Page[Row[M]]: ...


async def keyset_page(
    query: QuerySet[M],
    ordering: Ordering,
    first: int,
    after: str | None,
    row_type: type[Row[M]] | None = None,
) -> Page[Any]:
    """One page of `query` ordered by (ordering.field, id), starting after `after`; rows of
    `row_type` rather than model objects when it is given."""
    check_page_size(first)
    field, desc = ordering.field, ordering.descending
    if after is not None:
        value, pk = decode_cursor(after)
        beyond = "lt" if desc else "gt"
        query = query.filter(
            Q(**{f"{field}__{beyond}": value}) | Q(**{field: value, f"id__{beyond}": pk})
        )
    sign = "-" if desc else ""
    rows = await _fetch(query.order_by(f"{sign}{field}", f"{sign}id").limit(first + 1), row_type)
    items = rows[:first]
    return Page(
        items=items,
        cursors=[encode_cursor(getattr(r, field), r.pk) for r in items],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
    )


@overload
async def nullable_keyset_page(
    query: QuerySet[M], ordering: Ordering, missing: str, first: int, after: str | None
) -> Page[M]: ...


@overload
async def nullable_keyset_page(
    query: QuerySet[M],
    ordering: Ordering,
    missing: str,
    first: int,
    after: str | None,
    row_type: type[Row[M]],
) -> Page[Row[M]]: ...


async def nullable_keyset_page(
    query: QuerySet[M],
    ordering: Ordering,
    missing: str,
    first: int,
    after: str | None,
    row_type: type[Row[M]] | None = None,
) -> Page[Any]:
    """Like `keyset_page`, for a sort value that may be null (e.g. a custom field's).

    Databases disagree on where NULL sorts, so `missing` (an annotation: 1 without a value,
    0 with one) sorts first: records without a value come last in either direction, ordered
    by id among themselves. A cursor holds the value (null for those) and the id.
    """
    check_page_size(first)
    field, desc = ordering.field, ordering.descending
    beyond = "lt" if desc else "gt"
    if after is not None:
        value, pk = decode_cursor(after)
        missing_value: dict[str, Any] = {f"{field}__isnull": True}
        if value is None:
            query = query.filter(**missing_value, **{f"id__{beyond}": pk})
        else:
            query = query.filter(
                Q(**{f"{field}__{beyond}": value})
                | Q(**{field: value, f"id__{beyond}": pk})
                | Q(**missing_value)
            )
    sign = "-" if desc else ""
    rows = await _fetch(
        query.order_by(missing, f"{sign}{field}", f"{sign}id").limit(first + 1), row_type
    )
    items = rows[:first]
    return Page(
        items=items,
        cursors=[encode_cursor(getattr(r, field), r.pk) for r in items],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
    )
