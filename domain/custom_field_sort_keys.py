"""Sort keys: the values of sortable custom fields copied into the record's own row, so a list
ordered by one reads an index in order instead of sorting every record that matches.

An admin marks a field sortable (`sortable: true` on define or update); it then takes a free
sort-key column of its record type (three number-like ones, for numbers, dates as day numbers
and yes/no as 0 and 1, and three text-like ones, for text and choices), which the migration
indexed as `(agency_id, owner_id, status, <column>, id)`, the shape of the creation-order index.
Three things keep the column equal to the field's value:

- every write of the field's value (create, update, import, `CustomValues.write`) sets the
  column in the same transaction; it reads the field's column under a share lock, so a field
  being marked at the same moment waits for the write or the write sees the mark;
- a merge, its undo and an erasure move or delete value rows, so they recompute the columns of
  the records they touched (`refresh_sort_keys`);
- marking a field starts the backfill: `fill_sort_keys` copies the values of one batch of
  records (in id order, row-locked, so a concurrent write waits or is read) and records its
  progress on the field; the marking transaction runs the first batch, so an agency with up to
  `FILL_BATCH` records is ready at once, and `crm sort-keys` runs the rest for larger ones.
  Orderings use the column once the backfill is done (`sort_ready_at`); until then, and for
  fields that are not sortable, they use the value table (`domain.custom_field_queries`).

Unmarking or archiving a field frees its column without clearing it: nothing reads a column
no field holds, and the next field to take it overwrites every record's key before it is used.
Why copies in the row rather than an index per field: docs/custom-fields.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.contacts import Contact
from db.custom_fields import CustomField, CustomFieldValue
from domain.errors import DomainError

# Record types whose table has sort-key columns (the others order by the value table).
SORTABLE_MODELS: dict[str, type[Model]] = {"contact": Contact}
NUMBER_COLUMNS = ("sort_number_1", "sort_number_2", "sort_number_3")
TEXT_COLUMNS = ("sort_text_1", "sort_text_2", "sort_text_3")
# Field types (domain.custom_fields.CustomFieldType values, which imports this module).
NUMBER, DATE, BOOLEAN, TEXT, CHOICE = "number", "date", "boolean", "text", "choice"
NUMBER_KINDS = frozenset({NUMBER, DATE, BOOLEAN})
TEXT_KINDS = frozenset({TEXT, CHOICE})
# Records filled per backfill transaction: a few hundred milliseconds of row locks.
FILL_BATCH = 5_000

SortKey = float | str | None


class SortKeyCode(StrEnum):
    """Why a field cannot be made sortable (CustomFieldErrorCode holds these)."""

    INVALID = "INVALID"
    TOO_MANY = "TOO_MANY"


def _columns_for(kind: str) -> tuple[str, ...]:
    if kind in NUMBER_KINDS:
        return NUMBER_COLUMNS
    if kind in TEXT_KINDS:
        return TEXT_COLUMNS
    return ()


def sort_key(kind: str, value: Any) -> SortKey:
    """A stored value as its sort key: dates as day numbers, yes/no as 1 and 0."""
    if value is None:
        return None
    if kind == DATE:  # SQLite hands the value table's dates over as text
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return float(day.toordinal())
    if kind == BOOLEAN:
        return 1.0 if value else 0.0
    if kind == NUMBER:
        return float(value)
    return str(value)


def natural_value(kind: str, key: Any) -> Any:
    """A sort key back as the field's value (cursors carry values, whatever serves the page)."""
    if key is None:
        return None
    if kind == DATE:
        return date.fromordinal(int(key))
    if kind == BOOLEAN:
        return bool(key)
    return key


def indexed_column(field: CustomField) -> str | None:
    """The column an ordering by this field may read: its own, once the backfill is done."""
    if field.sort_column is None or field.sort_ready_at is None:
        return None
    return field.sort_column


def _invalid(message: str) -> DomainError:
    return DomainError(SortKeyCode.INVALID, message, "sortable")


async def claim_column(field: CustomField, conn: BaseDBAsyncClient) -> None:
    """Give the (locked) field a free sort-key column of its record type and restart its
    backfill; the caller saves the field, then runs the first batch."""
    if field.record_type not in SORTABLE_MODELS:
        raise _invalid(f"Only {', '.join(SORTABLE_MODELS)} fields can be sortable yet.")
    columns = _columns_for(field.type)
    if not columns:
        raise _invalid("A multi-choice field cannot order a list.")
    if field.sort_column is not None:
        return
    holders = await CustomField.filter(
        agency_id=field.agency_id, record_type=field.record_type, sort_column__in=columns
    ).using_db(conn)
    taken = {holder.sort_column for holder in holders}
    free = [column for column in columns if column not in taken]
    if not free:
        kind = "number, date and yes/no" if columns is NUMBER_COLUMNS else "text and choice"
        raise DomainError(
            SortKeyCode.TOO_MANY,
            f"A record type has at most {len(columns)} sortable {kind} fields: unmark one first.",
            "sortable",
        )
    field.sort_column = free[0]
    field.sort_fill_after = None
    field.sort_keys_filled = 0
    field.sort_ready_at = None


def release_column(field: CustomField) -> None:
    """The field stops being sortable; its column is free for another (see the module doc)."""
    field.sort_column = None
    field.sort_fill_after = None
    field.sort_keys_filled = 0
    field.sort_ready_at = None


SORT_FIELDS = ("sort_column", "sort_fill_after", "sort_keys_filled", "sort_ready_at")


async def sort_columns_of(field_ids: Sequence[UUID], conn: BaseDBAsyncClient) -> dict[UUID, str]:
    """The sort-key columns of these fields, read under a share lock on PostgreSQL: marking a
    field (which locks it for update) waits for this transaction, or committed before it."""
    if not field_ids:
        return {}
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT id, sort_column FROM custom_field WHERE id = ANY($1::uuid[]) "
            "AND sort_column IS NOT NULL FOR SHARE",
            [list(field_ids)],
        )
    else:  # SQLite runs one writing transaction at a time
        rows = await (
            CustomField.filter(id__in=list(field_ids), sort_column__isnull=False)
            .using_db(conn)
            .values("id", "sort_column")
        )
    return {UUID(str(row["id"])): str(row["sort_column"]) for row in rows}


async def write_sort_keys(
    record_type: str,
    record_id: UUID,
    values: dict[UUID, tuple[str, Any]],
    conn: BaseDBAsyncClient,
) -> None:
    """Copy the values just written (field id -> its type and value, None when cleared) to the
    sort-key columns of the fields that have one, in the caller's transaction."""
    model = SORTABLE_MODELS.get(record_type)
    if model is None or not values:
        return
    columns = await sort_columns_of(list(values), conn)
    keys = {column: sort_key(*values[field_id]) for field_id, column in columns.items()}
    if keys:
        await model.filter(id=record_id).using_db(conn).update(**keys)


async def refresh_sort_keys(
    agency_id: UUID, record_type: str, record_ids: Sequence[UUID], conn: BaseDBAsyncClient
) -> None:
    """Recompute the sort keys of a few records from their stored values, after their value
    rows moved (a merge, its undo) or went (an erasure). Call it after the records' own saves:
    a full save writes the sort-key columns it read before."""
    model = SORTABLE_MODELS.get(record_type)
    if model is None or not record_ids:
        return
    fields = await CustomField.filter(
        agency_id=agency_id, record_type=record_type, sort_column__isnull=False
    ).using_db(conn)
    if not fields:
        return
    stored = await CustomFieldValue.filter(
        agency_id=agency_id, record_id__in=list(record_ids), field_id__in=[f.id for f in fields]
    ).using_db(conn)
    by_record: dict[tuple[UUID, UUID], CustomFieldValue] = {
        (row.record_id, row.field_id): row for row in stored
    }
    for record_id in record_ids:
        keys: dict[str, Any] = {}
        for field in fields:
            kind = field.type
            row = by_record.get((record_id, field.id))
            keys[str(field.sort_column)] = sort_key(kind, _stored(kind, row))
        await model.filter(id=record_id).using_db(conn).update(**keys)


def _stored(kind: str, row: CustomFieldValue | None) -> Any:
    if row is None:
        return None
    if kind in TEXT_KINDS:
        return row.text_value
    if kind == DATE:
        return row.date_value
    if kind == BOOLEAN:
        return row.bool_value
    return row.number_value


@dataclass(frozen=True, slots=True)
class FillProgress:
    """Where a field's backfill stands: records filled so far, and whether it is done."""

    field_id: UUID
    filled: int
    done: bool


async def fill_batch(
    field: CustomField, conn: BaseDBAsyncClient, batch: int | None = None
) -> FillProgress:
    """Fill the sort keys of the next `batch` (default FILL_BATCH) records, in id order, of a
    field the caller locked, and save its progress; when none is left, the field is ready."""
    batch = batch or FILL_BATCH
    if field.sort_column is None or field.sort_ready_at is not None:
        return FillProgress(field.id, field.sort_keys_filled, field.sort_ready_at is not None)
    model = SORTABLE_MODELS[field.record_type]
    records = model.filter(agency_id=field.agency_id).using_db(conn)
    if field.sort_fill_after is not None:
        records = records.filter(id__gt=field.sort_fill_after)
    # Locked first, read after: a write to one of them commits before the read below, or waits.
    locked = await records.order_by("id").limit(batch).select_for_update().only("id")
    ids: list[UUID] = [record.pk for record in locked]
    if ids:
        kind = field.type
        stored = {
            row.record_id: _stored(kind, row)
            for row in await CustomFieldValue.filter(
                agency_id=field.agency_id, field_id=field.id, record_id__in=ids
            ).using_db(conn)
        }
        table, column = model._meta.db_table, field.sort_column
        postgres = conn.capabilities.dialect == "postgres"
        marks = ("$1", "$2::uuid") if postgres else ("?", "?")
        await conn.execute_many(
            f'UPDATE "{table}" SET "{column}" = {marks[0]} WHERE "id" = {marks[1]}',
            [[sort_key(kind, stored.get(record_id)), str(record_id)] for record_id in ids],
        )
        field.sort_fill_after = ids[-1]
        field.sort_keys_filled += len(ids)
    if len(ids) < batch:
        field.sort_ready_at = datetime.now(UTC)
    await field.save(using_db=conn, update_fields=[*SORT_FIELDS, "updated_at"])
    return FillProgress(field.id, field.sort_keys_filled, field.sort_ready_at is not None)


async def fill_sort_keys(agency_id: UUID, field_id: UUID, batch: int | None = None) -> FillProgress:
    """One backfill batch of one field in a transaction of its own (the job's step)."""
    async with in_transaction() as conn:
        field = (
            await CustomField.filter(agency_id=agency_id, id=field_id)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if field is None:
            return FillProgress(field_id, 0, True)
        return await fill_batch(field, conn, batch)


async def fill_every_field(
    report: Callable[[CustomField, FillProgress], None], batch: int | None = None
) -> int:
    """Run the backfill of every sortable field not ready yet, of every agency, batch by
    batch to its end, reporting each batch (`crm sort-keys`). Stopped, it resumes where its
    last committed batch ended. Returns the number of fields made ready."""
    ready = 0
    pending = await CustomField.filter(
        sort_column__isnull=False, sort_ready_at__isnull=True
    ).order_by("created_at", "id")
    for field in pending:
        while True:
            progress = await fill_sort_keys(field.agency_id, field.id, batch)
            report(field, progress)
            if progress.done:
                ready += 1
                break
    return ready
