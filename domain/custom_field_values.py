"""Custom field values of sales records: validated against the agency's live fields, written in
the record's own transaction (with its audit row), and read in batches for DataLoaders.

A value is given as its key and one typed member (`text`, `number`, `date`, `boolean` or
`choices`), the shape the GraphQL input has; none (or null) clears it. Each sales record's
error enum holds every `CustomValueCode`, so its create and update return these codes with
the path `custom_fields.<key>`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import date as Date  # a second name: FieldValue has a field named `date`
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from db.custom_fields import CustomFieldValue
from domain.actors import Actor
from domain.custom_field_sort_keys import write_sort_keys
from domain.custom_fields import (
    CHOICE_TYPES,
    MAX_TEXT_LENGTH,
    CustomField,
    CustomFieldType,
    list_custom_fields,
)
from domain.errors import DomainError, DomainErrors

# Numbers are stored as doubles: beyond this they would no longer be exact integers.
MAX_MAGNITUDE = 1e15
MEMBERS = ("text", "number", "date", "boolean", "choices")


class CustomValueCode(StrEnum):
    """What can be wrong with a custom field value (each sales record's enum includes these)."""

    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    NOT_TEXT = "NOT_TEXT"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    NOT_A_DATE = "NOT_A_DATE"
    NOT_A_BOOLEAN = "NOT_A_BOOLEAN"
    NOT_A_CHOICE = "NOT_A_CHOICE"


# The member a value of each type is given in, the code when another one is, and its column.
MEMBER_OF = {
    CustomFieldType.TEXT: ("text", CustomValueCode.NOT_TEXT, "text_value"),
    CustomFieldType.NUMBER: ("number", CustomValueCode.NOT_A_NUMBER, "number_value"),
    CustomFieldType.DATE: ("date", CustomValueCode.NOT_A_DATE, "date_value"),
    CustomFieldType.BOOLEAN: ("boolean", CustomValueCode.NOT_A_BOOLEAN, "bool_value"),
    CustomFieldType.CHOICE: ("choices", CustomValueCode.NOT_A_CHOICE, "text_value"),
    CustomFieldType.MULTI_CHOICE: ("choices", CustomValueCode.NOT_A_CHOICE, "text_value"),
}


def path(key: str) -> str:
    return f"custom_fields.{key}"


def column_of(kind: CustomFieldType) -> str:
    """The value table's column holding values of this type."""
    return MEMBER_OF[kind][2]


def _problem(code: CustomValueCode, message: str, key: str) -> DomainError:
    return DomainError(code, message, path(key))


def typed_operand(custom: CustomField, given: dict[str, Any], where: str) -> Any:
    """The one member of `given` a value of this field's type is written in, checked for type
    only (None when no member is given). Filters use it for their operands too."""
    kind = CustomFieldType(custom.type)
    member, wrong_type, _ = MEMBER_OF[kind]
    present = [name for name in MEMBERS if given.get(name) is not None]
    if len(present) > 1:
        raise DomainError(
            CustomValueCode.INVALID, f"Give one of {', '.join(present)}, not several.", where
        )
    if not present:
        return None
    if present[0] != member:
        raise DomainError(
            wrong_type, f"{custom.label!r} is a {kind.value} field: give `{member}`.", where
        )
    value = given[member]
    if kind is CustomFieldType.TEXT and not isinstance(value, str):
        raise DomainError(wrong_type, "Not text.", where)
    if kind is CustomFieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DomainError(wrong_type, "Not a number.", where)
        if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
            raise DomainError(
                CustomValueCode.OUT_OF_RANGE, f"Numbers are at most {MAX_MAGNITUDE:.0e}.", where
            )
        return float(value)
    if kind is CustomFieldType.DATE:
        return _date(value, wrong_type, where)
    if kind is CustomFieldType.BOOLEAN and not isinstance(value, bool):
        raise DomainError(wrong_type, "Not true or false.", where)
    if kind in CHOICE_TYPES:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise DomainError(wrong_type, "Not a list of choices.", where)
    return value


def _date(value: Any, code: CustomValueCode, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise DomainError(code, "Not a date (YYYY-MM-DD).", where)


def _rows(custom: CustomField, given: dict[str, Any]) -> list[dict[str, Any]]:
    """The value rows to store for one given value (none: the value is cleared)."""
    key = custom.key
    value = typed_operand(custom, given, path(key))
    kind = CustomFieldType(custom.type)
    column = column_of(kind)
    if value is None or value == []:
        if custom.required:
            raise _problem(CustomValueCode.REQUIRED, f"{custom.label!r} needs a value.", key)
        return []
    if kind is CustomFieldType.TEXT:
        value = value.strip()
        limit = custom.max_length or MAX_TEXT_LENGTH
        if len(value) > limit:
            raise _problem(CustomValueCode.TOO_LONG, f"At most {limit} characters.", key)
        if not value:
            if custom.required:
                raise _problem(CustomValueCode.REQUIRED, f"{custom.label!r} needs a value.", key)
            return []
    if kind is CustomFieldType.NUMBER:
        low, high = custom.min_value, custom.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low if low is not None else '-inf'} and "
            bounds += f"{high if high is not None else 'inf'}"
            raise _problem(CustomValueCode.OUT_OF_RANGE, f"Must be {bounds}.", key)
    if kind in CHOICE_TYPES:
        chosen = list(dict.fromkeys(value))
        unknown = [v for v in chosen if v not in custom.choices]
        if unknown:
            raise _problem(
                CustomValueCode.NOT_A_CHOICE,
                f"{unknown[0]!r} is not one of {', '.join(custom.choices)}.",
                key,
            )
        if kind is CustomFieldType.CHOICE and len(chosen) > 1:
            raise _problem(CustomValueCode.NOT_A_CHOICE, "Pick one choice.", key)
        return [{column: v} for v in chosen]
    return [{column: value}]


def _as_json(custom: CustomField, rows: list[dict[str, Any]]) -> Any:
    """Stored rows as one JSON value, for audit rows and event payloads."""
    kind = CustomFieldType(custom.type)
    values = [row[column_of(kind)] for row in rows]
    if kind is CustomFieldType.MULTI_CHOICE:
        return sorted(values, key=_choice_order(custom))
    if not values:
        return None
    value = values[0]
    return value.isoformat() if isinstance(value, date) else value


def _choice_order(custom: CustomField) -> Any:
    order = {choice: index for index, choice in enumerate(custom.choices)}
    return lambda value: (order.get(value, len(order)), value)


@dataclass(frozen=True, slots=True)
class CustomValues:
    """Validated values to write on one record: per field, the rows to store (none: cleared)."""

    record_type: str
    rows: dict[UUID, tuple[CustomField, list[dict[str, Any]]]] = field(default_factory=dict)

    async def current(self, record_id: UUID, conn: BaseDBAsyncClient) -> dict[str, Any]:
        """The stored values of the fields about to be written, as the audit's `before`."""
        if not self.rows:
            return {}
        stored = await CustomFieldValue.filter(
            record_id=record_id, field_id__in=list(self.rows)
        ).using_db(conn)
        by_field: dict[UUID, list[dict[str, Any]]] = {}
        for row in stored:
            custom = self.rows[row.field_id][0]
            column = column_of(CustomFieldType(custom.type))
            by_field.setdefault(row.field_id, []).append({column: getattr(row, column)})
        return {
            "custom_fields": {
                custom.key: _as_json(custom, by_field.get(field_id, []))
                for field_id, (custom, _) in self.rows.items()
            }
        }

    async def write(self, actor: Actor, record_id: UUID, conn: BaseDBAsyncClient) -> dict[str, Any]:
        """Replace the record's values of these fields, and the sort keys of the sortable ones,
        on the record's own transaction (so a failed write leaves neither). Call it after the
        record's own save. Returns them as the audit's `after` (empty if none)."""
        if not self.rows:
            return {}
        await (
            CustomFieldValue.filter(record_id=record_id, field_id__in=list(self.rows))
            .using_db(conn)
            .delete()
        )
        await CustomFieldValue.bulk_create(
            [
                CustomFieldValue(
                    agency_id=actor.agency_id,
                    field_id=field_id,
                    record_type=self.record_type,
                    record_id=record_id,
                    **row,
                )
                for field_id, (_, rows) in self.rows.items()
                for row in rows
            ],
            using_db=conn,
        )
        single_valued = {
            field_id: (
                custom.type,
                rows[0][column_of(CustomFieldType(custom.type))] if rows else None,
            )
            for field_id, (custom, rows) in self.rows.items()
            if custom.type != CustomFieldType.MULTI_CHOICE
        }
        await write_sort_keys(self.record_type, record_id, single_valued, conn)
        return {
            "custom_fields": {
                custom.key: _as_json(custom, rows) for custom, rows in self.rows.values()
            }
        }


async def custom_values(
    actor: Actor,
    record_type: str,
    data: dict[str, Any],
    creating: bool,
    conn: BaseDBAsyncClient | None = None,
    definitions: Sequence[CustomField] | None = None,
) -> tuple[dict[str, Any], CustomValues]:
    """Split `data` into the record's own fields and its validated custom field values.

    On create every required field needs a value; on update only the values given change
    (a required one cannot be cleared). Every problem is reported, each on its key's path.
    `definitions`: the record type's live fields, when the caller has read them already (an
    import checks thousands of rows against the same fields).
    """
    rest = {name: value for name, value in data.items() if name != "custom_fields"}
    given: list[dict[str, Any]] = data.get("custom_fields") or []
    values = CustomValues(record_type)
    if not given and not creating:
        return rest, values
    if definitions is None:
        definitions = await list_custom_fields(actor, [record_type], conn=conn)
    fields = {f.key: f for f in definitions}
    problems: list[DomainError] = []
    for item in given:
        key = str(item.get("key", ""))
        custom = fields.get(key)
        if custom is None:
            problems.append(
                _problem(CustomValueCode.UNKNOWN_FIELD, f"No {record_type} field {key!r}.", key)
            )
            continue
        if custom.id in values.rows:
            problems.append(_problem(CustomValueCode.INVALID, "Given twice.", key))
            continue
        try:
            values.rows[custom.id] = (custom, _rows(custom, item))
        except DomainError as exc:
            problems.append(exc)
    if creating:
        problems += [
            _problem(CustomValueCode.REQUIRED, f"{custom.label!r} needs a value.", custom.key)
            for custom in fields.values()
            if custom.required and custom.id not in values.rows
        ]
    if problems:
        raise DomainErrors(problems)
    return rest, values


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One live field of a record with its value (all empty when unset)."""

    definition: CustomField
    text: str | None = None
    number: float | None = None
    date: Date | None = None
    boolean: bool | None = None
    choices: list[str] = field(default_factory=list)


RecordKey = tuple[str, UUID]


async def values_of_records(
    actor: Actor, keys: Sequence[RecordKey]
) -> dict[RecordKey, list[FieldValue]]:
    """Batch load for DataLoaders: every live field of each record, in form order, with its
    value. Two statements per batch (fields, values) whatever the number of records; the
    records themselves were read under the actor's scope by whoever asks."""
    fields = await list_custom_fields(actor, sorted({record_type for record_type, _ in keys}))
    if not fields:
        return {}
    stored = await CustomFieldValue.filter(
        agency_id=actor.agency_id,
        record_id__in=list({record_id for _, record_id in keys}),
        field_id__in=[f.id for f in fields],
    )
    rows: dict[tuple[UUID, UUID], list[CustomFieldValue]] = {}
    for row in stored:
        rows.setdefault((row.record_id, row.field_id), []).append(row)
    found: dict[RecordKey, list[FieldValue]] = {}
    for record_type, record_id in keys:
        found[(record_type, record_id)] = [
            _field_value(custom, rows.get((record_id, custom.id), []))
            for custom in fields
            if custom.record_type == record_type
        ]
    return found


def _field_value(custom: CustomField, rows: list[CustomFieldValue]) -> FieldValue:
    kind = CustomFieldType(custom.type)
    if kind in CHOICE_TYPES:
        chosen = sorted((r.text_value for r in rows if r.text_value), key=_choice_order(custom))
        return FieldValue(custom, choices=chosen)
    if not rows:
        return FieldValue(custom)
    row = rows[0]
    return FieldValue(
        custom,
        text=row.text_value,
        number=row.number_value,
        date=row.date_value,
        boolean=row.bool_value,
    )
