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
    """Sort by `field`, then by the `then` fields (same direction), then by id."""

    field: str
    descending: bool = False
    then: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return (self.field, *self.then)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _encoded(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):  # a calendar date (e.g. a deal's expected close date)
        return {"d": value.isoformat()}
    if isinstance(value, UUID):
        return str(value)
    return value


def _decoded(value: Any) -> Any:
    if isinstance(value, dict):
        return (
            date.fromisoformat(value["d"]) if "d" in value else datetime.fromisoformat(value["dt"])
        )
    return value


def encode_cursor(value: Any, pk: UUID | int) -> str:
    """A cursor of one sort value, or of a list of them (an ordering with `then` fields)."""
    value = [_encoded(v) for v in value] if isinstance(value, list) else _encoded(value)
    raw = json.dumps([value, str(pk) if isinstance(pk, UUID) else pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[Any, UUID | int]:
    """The sort value (a list of them for a compound ordering) and primary key (a UUID, or an
    integer for append-only tables)."""
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        value = [_decoded(v) for v in value] if isinstance(value, list) else _decoded(value)
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
    return list(await query) if row_type is None else await read_rows(query, row_type)


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
    """One page of `query` ordered by (the ordering's fields, id), starting after `after`;
    rows of `row_type` rather than model objects when it is given."""
    check_page_size(first)
    fields, desc = ordering.fields, ordering.descending
    if after is not None:
        value, pk = decode_cursor(after)
        compound = isinstance(value, list)
        values = value if compound else [value]
        if compound != bool(ordering.then) or len(values) != len(fields):
            raise DomainError(
                PageErrorCode.INVALID_CURSOR, "The cursor is not one of this ordering.", "after"
            )
        query = query.filter(_beyond([*zip(fields, values, strict=True), ("id", pk)], desc))
    sign = "-" if desc else ""
    rows = await _fetch(
        query.order_by(*(f"{sign}{f}" for f in fields), f"{sign}id").limit(first + 1), row_type
    )
    items = rows[:first]

    def sort_value(row: Any) -> Any:
        return [getattr(row, f) for f in fields] if ordering.then else getattr(row, ordering.field)

    return Page(
        items=items,
        cursors=[encode_cursor(sort_value(r), r.pk) for r in items],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
    )


def _beyond(keys: list[tuple[str, Any]], descending: bool) -> Q:
    """Rows after the cursor's keys in a (k1, k2, ..., id) ordering: k1 beyond, or k1 equal
    and k2 beyond, and so on (portable where row-value comparisons are not)."""
    beyond = "lt" if descending else "gt"
    found = Q(**{f"{keys[0][0]}__{beyond}": keys[0][1]})
    for n in range(1, len(keys)):
        name, value = keys[n]
        found |= Q(**dict(keys[:n]), **{f"{name}__{beyond}": value})
    return found


@overload
async def nullable_keyset_page(
    query: QuerySet[M], ordering: Ordering, first: int, after: str | None
) -> Page[M]: ...


@overload
async def nullable_keyset_page(
    query: QuerySet[M],
    ordering: Ordering,
    first: int,
    after: str | None,
    row_type: type[Row[M]],
) -> Page[Row[M]]: ...


async def nullable_keyset_page(
    query: QuerySet[M],
    ordering: Ordering,
    first: int,
    after: str | None,
    row_type: type[Row[M]] | None = None,
) -> Page[Any]:
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
    rows: list[Any] = []
    if after is None or value is not None:
        valued = query.filter(**{f"{field}__isnull": False})
        if after is not None:
            valued = valued.filter(
                Q(**{f"{field}__{beyond}e": value}),
                Q(**{f"{field}__{beyond}": value}) | Q(**{field: value, f"id__{beyond}": pk}),
            )
        rows = await _fetch(
            valued.order_by(f"{sign}{field}", f"{sign}id").limit(first + 1), row_type
        )
    if len(rows) <= first:
        missing = query.filter(**{f"{field}__isnull": True})
        if after is not None and value is None:
            missing = missing.filter(**{f"id__{beyond}": pk})
        rows += await _fetch(missing.order_by(f"{sign}id").limit(first + 1 - len(rows)), row_type)
    items = rows[:first]
    return Page(
        items=items,
        cursors=[encode_cursor(getattr(r, field), r.pk) for r in items],
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
    )
