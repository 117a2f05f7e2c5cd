"""Listing sales records by their custom field values: filter conditions and ordering.

Both are plain SQL over `custom_field_value` (one typed, indexed column per type), so they
behave the same on SQLite and PostgreSQL: a condition is `id IN (SELECT record_id ...)`, an
ordering is a correlated subquery on the record's value, with records without a value last
in either direction and the id as tiebreak, paginated by keyset (see `domain.pagination`).
An ordering by a sortable field whose sort keys are filled reads the record's own sort-key
column instead, which an index hands over in order (`domain.custom_field_sort_keys`); its
pages and cursors are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date as Date  # CustomFieldOperand has a field named `date`
from typing import Annotated, Any, TypeVar, overload
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from db.custom_fields import CustomFieldValue
from domain.actors import Actor
from domain.custom_field_sort_keys import indexed_column, natural_value, sort_key
from domain.custom_field_values import CustomValueCode, column_of, typed_operand
from domain.custom_fields import CHOICE_TYPES, CustomField, CustomFieldType, list_custom_fields
from domain.errors import DomainError
from domain.pagination import (
    Ordering,
    Page,
    PageErrorCode,
    decode_cursor,
    encode_cursor,
    keyset_page,
    nullable_keyset_page,
)
from domain.rows import Row

M = TypeVar("M", bound=Model)

SORT_VALUE = "custom_sort_value"
FILTER_PATH = "filter.custom_fields"


class CustomFieldOperand(BaseModel):
    """One typed value to compare with: exactly the member of the field's type."""

    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, StringConstraints(max_length=500)] | None = None
    number: float | None = None
    date: Date | None = None
    boolean: bool | None = None


class CustomFieldCondition(BaseModel):
    """Conditions on one field's value, all of which must hold (for multi-choice fields: on
    one of the chosen values). `contains` is for text, `any_of` for text and choices,
    `at_least`/`at_most` (inclusive) for numbers and dates."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, StringConstraints(max_length=50)]
    equals: CustomFieldOperand | None = None
    at_least: CustomFieldOperand | None = None
    at_most: CustomFieldOperand | None = None
    any_of: (
        Annotated[list[Annotated[str, StringConstraints(max_length=500)]], Field(max_length=100)]
        | None
    ) = None
    contains: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    is_set: bool | None = None


CustomFieldConditions = Annotated[list[CustomFieldCondition], Field(max_length=20)]


@dataclass(frozen=True, slots=True)
class CustomFieldOrdering:
    """Order records by one custom field's value (not a multi-choice one), then by id."""

    key: str
    descending: bool = False


def _invalid(message: str, where: str) -> DomainError:
    return DomainError(CustomValueCode.INVALID, message, where)


async def _live_fields(actor: Actor, record_type: str) -> dict[str, CustomField]:
    return {f.key: f for f in await list_custom_fields(actor, [record_type])}


def _unknown(record_type: str, key: str, where: str) -> DomainError:
    return DomainError(CustomValueCode.UNKNOWN_FIELD, f"No {record_type} field {key!r}.", where)


def _value_filter(custom: CustomField, condition: CustomFieldCondition, where: str) -> Q:
    """The condition on the value rows of one field (the record matches if a row does)."""
    kind = CustomFieldType(custom.type)
    column = column_of(kind)
    found = Q()
    for name, lookup in (("equals", ""), ("at_least", "__gte"), ("at_most", "__lte")):
        operand: CustomFieldOperand | None = getattr(condition, name)
        if operand is None:
            continue
        if lookup and kind not in (CustomFieldType.NUMBER, CustomFieldType.DATE):
            raise _invalid(f"`{name}` compares numbers and dates only.", f"{where}.{name}")
        given = operand.model_dump(exclude_none=True)
        if kind in CHOICE_TYPES:  # a choice is compared as the text it is
            given = {"choices": given.pop("text")} if set(given) == {"text"} else given
        value = typed_operand(custom, given, f"{where}.{name}")
        if value is None:
            raise _invalid("Give the value to compare with.", f"{where}.{name}")
        if kind in CHOICE_TYPES:
            value = value[0]
        found &= Q(**{f"{column}{lookup}": value})
    if condition.any_of is not None:
        if kind not in CHOICE_TYPES | {CustomFieldType.TEXT}:
            raise _invalid("`any_of` matches text and choices only.", f"{where}.any_of")
        any_of: dict[str, Any] = {f"{column}__in": condition.any_of}
        found &= Q(**any_of)
    if condition.contains is not None:
        if kind is not CustomFieldType.TEXT:
            raise _invalid("`contains` matches text only.", f"{where}.contains")
        found &= Q(**{f"{column}__icontains": condition.contains})
    return found


async def matching(
    actor: Actor,
    record_type: str,
    query: QuerySet[M],
    conditions: list[CustomFieldCondition] | None,
) -> QuerySet[M]:
    """`query` narrowed to records whose custom field values meet every condition."""
    if not conditions:
        return query
    fields = await _live_fields(actor, record_type)
    for index, condition in enumerate(conditions):
        where = f"{FILTER_PATH}.{index}"
        custom = fields.get(condition.key)
        if custom is None:
            raise _unknown(record_type, condition.key, f"{where}.key")
        values = CustomFieldValue.filter(agency_id=actor.agency_id, field_id=custom.id)
        value_filter = _value_filter(custom, condition, where)
        has_value = Q(id__in=Subquery(values.values_list("record_id", flat=True)))
        if condition.is_set is False:
            if value_filter:
                raise _invalid("An unset field has no value to compare.", f"{where}.is_set")
            query = query.filter(~has_value)
            continue
        matched = values.filter(value_filter).values_list("record_id", flat=True)
        query = query.filter(id__in=Subquery(matched))
    return query


def _sort_sql(table: str, custom: CustomField) -> str:
    """The record's value of one single-valued field, as a correlated subquery.

    Inlined, not bound: Tortoise binds no parameters in annotations. Every part is ours: the
    table name from the model, the column from the field type, the id a UUID we stored.
    """
    column = column_of(CustomFieldType(custom.type))
    field_id = str(UUID(str(custom.id)))
    return (
        f"(SELECT v.{column} FROM custom_field_value v "
        f'WHERE v.record_id = "{table}"."id" AND v.field_id = \'{field_id}\')'
    )


@overload
async def records_page(
    actor: Actor,
    record_type: str,
    query: QuerySet[M],
    ordering: Ordering | CustomFieldOrdering,
    first: int,
    after: str | None,
) -> Page[M]: ...


@overload
async def records_page(
    actor: Actor,
    record_type: str,
    query: QuerySet[M],
    ordering: Ordering | CustomFieldOrdering,
    first: int,
    after: str | None,
    row_type: type[Row[M]],
) -> Page[Row[M]]: ...


async def records_page(
    actor: Actor,
    record_type: str,
    query: QuerySet[M],
    ordering: Ordering | CustomFieldOrdering,
    first: int,
    after: str | None,
    row_type: type[Row[M]] | None = None,
) -> Page[Any]:
    """One keyset page of sales records, ordered by a column or by a custom field; rows of
    `row_type` rather than model objects when it is given (`domain.rows`)."""
    if isinstance(ordering, Ordering):
        if row_type is None:
            return await keyset_page(query, ordering, first, after)
        return await keyset_page(query, ordering, first, after, row_type)
    custom = (await _live_fields(actor, record_type)).get(ordering.key)
    if custom is None:
        raise _unknown(record_type, ordering.key, "order_by.custom_field")
    if CustomFieldType(custom.type) is CustomFieldType.MULTI_CHOICE:
        raise _invalid(
            "Records cannot be ordered by a multi-choice field.", "order_by.custom_field"
        )
    column = indexed_column(custom)
    if column is not None and column in query.model._meta.fields_map:
        return await _sort_key_page(
            query, custom, column, ordering.descending, first, after, row_type
        )
    annotated = query.annotate(
        **{SORT_VALUE: RawSQL(_sort_sql(query.model._meta.db_table, custom))}
    )
    by_value = Ordering(SORT_VALUE, ordering.descending)
    if row_type is None:
        return await nullable_keyset_page(annotated, by_value, first, after)
    return await nullable_keyset_page(annotated, by_value, first, after, row_type)


async def _sort_key_page(
    query: QuerySet[M],
    custom: CustomField,
    column: str,
    descending: bool,
    first: int,
    after: str | None,
    row_type: type[Row[M]] | None,
) -> Page[Any]:
    """The page read from the record's sort-key column. Cursors carry the field's value, as
    the value table's ordering does, so a cursor outlives the field's marking."""
    kind = custom.type
    if after is not None:
        value, pk = decode_cursor(after)
        try:
            after = encode_cursor(sort_key(kind, value), pk)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            raise DomainError(
                PageErrorCode.INVALID_CURSOR, "The cursor is not one this API gave out.", "after"
            ) from exc
    by_key = Ordering(column, descending)
    page: Page[Any] = (
        await nullable_keyset_page(query, by_key, first, after)
        if row_type is None
        else await nullable_keyset_page(query, by_key, first, after, row_type)
    )
    cursors = [
        encode_cursor(natural_value(kind, getattr(item, column)), item.pk) for item in page.items
    ]
    return replace(page, cursors=cursors)
