"""Running an import: its rows in batches, each committed whole with the import's counts,
`next_row`, one audit row and one progress event (`domain.imports` says why), duplicates
matched by normalised email and phone."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.contacts import Contact
from db.customers import Customer
from db.duplicates import DuplicateKey, DuplicateKeyed, duplicate_key_rows
from domain import tags
from domain.actors import Actor
from domain.audit import record_audit
from domain.custom_field_values import CustomValues, custom_values
from domain.custom_fields import CustomField, CustomFieldType, list_custom_fields
from domain.errors import DomainError, DomainErrors, errors_of
from domain.events import append_event
from domain.import_files import FileFormat, ImportLimits, data_rows, file_rows, header_of
from domain.imports import (
    AGGREGATE,
    CUSTOM_PREFIX,
    LIST_SEPARATOR,
    MAX_MESSAGE_LENGTH,
    DuplicatePolicy,
    ImportRowError,
    ImportStatus,
    ImportTarget,
    RecordImport,
    counts_of,
    local_copy,
    run_actor,
    snapshot,
    source_of,
    target_of,
)
from domain.roles import Access
from domain.sales_records import scoped
from domain.storage import Storage


def normalised_email(value: str) -> str:
    return value.strip().lower()


def normalised_phone(value: str) -> str:
    """The digits (and a leading +): `+44 20 7946 0018` and `+442079460018` match."""
    value = value.strip()
    digits = re.sub(r"\D", "", value)
    return f"+{digits}" if value.startswith("+") else digits


@dataclass
class DuplicateIndex:
    """The normalised emails and phones of the records an import may match, by record id."""

    by_key: dict[str, UUID] = field(default_factory=dict)

    def add(self, record_id: UUID, emails: list[str], phones: list[str]) -> None:
        for email in emails:
            self.by_key.setdefault(f"e:{normalised_email(email)}", record_id)
        for phone in phones:
            self.by_key.setdefault(f"p:{normalised_phone(phone)}", record_id)


def _contact_keys(record: Any) -> tuple[list[str], list[str]]:
    if isinstance(record, Contact):
        return list(record.emails), list(record.phones)
    if isinstance(record, Customer):
        return [record.billing_email] if record.billing_email else [], []
    return [], []


async def load_duplicate_index(actor: Actor, target: ImportTarget) -> DuplicateIndex:
    """Every record the import's actor may change, by normalised email and phone."""
    index = DuplicateIndex()
    if target.record_type == "contact":
        for row in await scoped(Contact, actor, Access.WRITE).values("id", "emails", "phones"):
            index.add(row["id"], row["emails"] or [], row["phones"] or [])
    elif target.record_type == "customer":
        for row in await scoped(Customer, actor, Access.WRITE).values("id", "billing_email"):
            index.add(row["id"], [row["billing_email"]] if row["billing_email"] else [], [])
    return index


def find_duplicate_for_import(
    index: DuplicateIndex, emails: list[str], phones: list[str]
) -> UUID | None:
    """The record a row duplicates: the first with one of its emails or phones, normalised
    (case and spaces aside). Deliberately simple: the duplicate detector replaces it."""
    for email in emails:
        found = index.by_key.get(f"e:{normalised_email(email)}")
        if found is not None:
            return found
    for phone in phones:
        found = index.by_key.get(f"p:{normalised_phone(phone)}")
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class RowProblem:
    column: str
    message: str


class RowFailed(Exception):
    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def _column_of(mapping: dict[str, str], problem_field: str | None) -> str:
    """The file's column a validation problem (`emails.0`, `address.city`,
    `custom_fields.size`) is about."""
    parts = (problem_field or "").split(".")
    name = parts[0]
    if name == "address" and len(parts) > 1:
        name = parts[1]
    elif name == "custom_fields" and len(parts) > 1:
        name = CUSTOM_PREFIX + parts[1]
    name = {"emails": "email", "phones": "phone"}.get(name, name)
    for column, mapped in mapping.items():
        if mapped == name:
            return column
    return ""


def _custom_value(definition: CustomField, cell: str) -> dict[str, Any]:
    """A cell as the value member its custom field's type takes (left as text when it is
    not of that type: the field's own check then names the problem)."""
    kind = CustomFieldType(definition.type)
    if kind is CustomFieldType.NUMBER:
        try:
            return {"number": float(cell)}
        except ValueError:
            return {"text": cell}
    if kind is CustomFieldType.DATE:
        return {"date": cell}
    if kind is CustomFieldType.BOOLEAN:
        lowered = cell.lower()
        if lowered in ("true", "yes", "1", "y"):
            return {"boolean": True}
        if lowered in ("false", "no", "0", "n"):
            return {"boolean": False}
        return {"text": cell}
    if kind in (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE):
        return {"choices": [c for c in LIST_SEPARATOR.split(cell) if c]}
    return {"text": cell}


@dataclass(frozen=True)
class ParsedRow:
    fields: dict[str, Any]  # validated, as the record's columns
    given: set[str]  # the record fields the row has a value for
    emails: list[str]
    phones: list[str]
    custom: dict[str, Any]  # custom field key -> value member


def _parse_row(
    target: ImportTarget,
    mapping: dict[str, str],
    custom_fields: dict[str, CustomField],
    cells: dict[str, str],
) -> ParsedRow:
    data: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for column, name in mapping.items():
        cell = cells.get(column, "")
        if not cell:
            continue
        if name.startswith(CUSTOM_PREFIX):
            definition = custom_fields.get(name.removeprefix(CUSTOM_PREFIX))
            if definition is None:  # archived since the import started
                raise RowFailed([RowProblem(column, f"The field {name!r} no longer exists.")])
            custom[definition.key] = _custom_value(definition, cell)
            continue
        value: Any = [v for v in LIST_SEPARATOR.split(cell) if v] if name in target.lists else cell
        key = target.plural.get(name, name)
        if name in target.nested:
            data.setdefault(target.nested[name], {})[name] = value
        else:
            data[key] = value
    given = set(data)
    try:
        filled = {r: data.get(r, "") for r in target.required}
        validated = target.changes.model_validate({**filled, **data}).model_dump()
    except ValidationError as exc:
        problems = [
            RowProblem(
                _column_of(mapping, ".".join(str(p) for p in error["loc"])),
                str(error["msg"])[:MAX_MESSAGE_LENGTH],
            )
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise RowFailed(problems) from exc
    columns = {k: v for k, v in validated.items() if k not in target.nested.values()}
    for nested in set(target.nested.values()):
        if nested in validated:
            columns.update(validated[nested])
            given.discard(nested)
            given.update(data.get(nested, {}))
    return ParsedRow(
        columns,
        {target.plural.get(g, g) for g in given},
        list(columns.get("emails", []))
        or ([columns["billing_email"]] if columns.get("billing_email") else []),
        list(columns.get("phones", [])),
        custom,
    )


async def _custom_for(
    run: _Run, parsed: ParsedRow, creating: bool, conn: BaseDBAsyncClient
) -> CustomValues:
    given = [{"key": key, **value} for key, value in parsed.custom.items()]
    try:
        _, values = await custom_values(
            run.actor,
            run.target.record_type,
            {"custom_fields": given},
            creating=creating,
            conn=conn,
            definitions=list(run.custom_fields.values()),
        )
    except (DomainError, DomainErrors) as exc:
        raise RowFailed(
            [RowProblem(_column_of(run.mapping, e.field), e.message) for e in errors_of(exc)]
        ) from exc
    return values


def _is_empty(value: Any) -> bool:
    return value in (None, "", [])


@dataclass
class BatchOutcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: int = 0
    problems: list[tuple[int, RowProblem]] = field(default_factory=list)
    failed_rows: set[int] = field(default_factory=set)


class _Run:
    """One activity's share of an import: its actor, target, custom fields and duplicates."""

    def __init__(
        self,
        record_import: RecordImport,
        custom_fields: dict[str, CustomField],
        index: DuplicateIndex,
    ) -> None:
        self.record_import = record_import
        self.actor = run_actor(record_import)
        self.target = target_of(record_import.record_type)
        self.mapping: dict[str, str] = dict(record_import.mapping)
        self.policy = DuplicatePolicy(record_import.duplicate_policy)
        self.custom_fields = custom_fields
        self.index = index
        self.pending: list[tuple[Any, CustomValues]] = []

    async def row(
        self, cells: dict[str, str], outcome: BatchOutcome, conn: BaseDBAsyncClient
    ) -> None:
        parsed = _parse_row(self.target, self.mapping, self.custom_fields, cells)
        existing_id = None
        if self.policy is not DuplicatePolicy.CREATE_ANYWAY:
            existing_id = find_duplicate_for_import(self.index, parsed.emails, parsed.phones)
        if existing_id is None:
            outcome.created.append(await self._create(parsed, conn))
        elif self.policy is DuplicatePolicy.SKIP:
            outcome.skipped += 1
        else:
            await self._update(existing_id, parsed, conn)
            outcome.updated.append(str(existing_id))

    async def _create(self, parsed: ParsedRow, conn: BaseDBAsyncClient) -> str:
        custom = await _custom_for(self, parsed, True, conn)
        columns = dict(parsed.fields)
        columns["owner_id"] = self.record_import.owner_id
        if self.target.has_source:
            columns["source"] = source_of(self.record_import)
        record: Any = self.target.model(agency_id=self.actor.agency_id, **columns)
        if record.tags:
            record.tags = await tags.tag_record(
                self.actor, self.target.record_type, record.id, record.tags, conn
            )
        if hasattr(record, "refresh_search_text"):
            record.refresh_search_text()  # inserted in bulk, without `save`
        self.pending.append((record, custom))
        emails, phones = _contact_keys(record)
        self.index.add(record.id, emails, phones)
        return str(record.id)

    async def flush(self, conn: BaseDBAsyncClient) -> None:
        """Insert the records created so far (one statement), then their custom values."""
        if not self.pending:
            return
        created = [r for r, _ in self.pending]
        await self.target.model.bulk_create(created, using_db=conn)
        # `bulk_create` skips `save`, which writes a contact's or customer's duplicate keys:
        # without them the detector would never find an imported record.
        keyed = [r for r in created if isinstance(r, DuplicateKeyed)]
        if keyed:
            await DuplicateKey.bulk_create(duplicate_key_rows(keyed), using_db=conn)
        for record, custom in self.pending:
            await custom.write(self.actor, record.id, conn)
        self.pending = []

    async def _update(self, record_id: UUID, parsed: ParsedRow, conn: BaseDBAsyncClient) -> None:
        await self.flush(conn)  # the record may be one this batch created
        record: Any = await (
            self.target.model.filter(id=record_id).select_for_update().using_db(conn).get()
        )
        merge_only = self.policy is DuplicatePolicy.MERGE
        for name in parsed.given:
            value, current = parsed.fields[name], getattr(record, name)
            if isinstance(current, list):
                # Lists (emails, phones, tags) gain the row's values either way.
                value = list(dict.fromkeys([*current, *value]))[:10]
            elif merge_only and not _is_empty(current):
                continue
            setattr(record, name, value)
        custom = await _custom_for(self, parsed, False, conn)
        if "tags" in parsed.given:
            record.tags = await tags.tag_record(
                self.actor, self.target.record_type, record.id, record.tags, conn
            )
        if merge_only and custom.rows:
            current = (await custom.current(record.id, conn)).get("custom_fields", {})
            kept = {
                field_id: value
                for field_id, value in custom.rows.items()
                if _is_empty(current.get(value[0].key))
            }
            custom = CustomValues(custom.record_type, kept)
        await record.save(using_db=conn)
        await custom.write(self.actor, record.id, conn)
        emails, phones = _contact_keys(record)
        self.index.add(record.id, emails, phones)


@dataclass(frozen=True)
class ImportProgress:
    done: bool
    status: str
    total_rows: int
    rows_done: int
    created: int
    updated: int
    skipped: int
    failed: int


def _progress(record_import: RecordImport) -> ImportProgress:
    return ImportProgress(
        done=record_import.status != ImportStatus.RUNNING,
        status=str(record_import.status),
        **counts_of(record_import),
    )


def _batches(
    rows: Iterator[tuple[int, list[str]]], size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    batch: list[tuple[int, list[str]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _commit_batch(
    run: _Run, batch: list[tuple[int, list[str]]], next_row: int, columns: list[str]
) -> RecordImport | None:
    """Import one batch in one transaction with the import's counts and `next_row`; None
    when the import is no longer running (cancelled, or finished by another attempt)."""
    outcome = BatchOutcome()
    async with in_transaction() as conn:
        record_import = (
            await RecordImport.filter(id=run.record_import.id)
            .select_for_update()
            .using_db(conn)
            .get()
        )
        if record_import.status != ImportStatus.RUNNING or record_import.next_row > batch[0][0]:
            return None if record_import.status != ImportStatus.RUNNING else record_import
        for number, cells in batch:
            named = dict(zip(columns, cells, strict=True))
            try:
                # A row fails in its checks, before it writes anything.
                await run.row(named, outcome, conn)
            except RowFailed as failure:
                outcome.failed_rows.add(number)
                outcome.problems += [(number, p) for p in failure.problems]
        await run.flush(conn)
        if outcome.problems:
            await ImportRowError.bulk_create(
                [
                    ImportRowError(
                        import_id=record_import.id,
                        row_number=number,
                        column=problem.column[:255],
                        message=problem.message[:MAX_MESSAGE_LENGTH],
                    )
                    for number, problem in outcome.problems
                ],
                using_db=conn,
            )
        record_import.created += len(outcome.created)
        record_import.updated += len(outcome.updated)
        record_import.skipped += outcome.skipped
        record_import.failed += len(outcome.failed_rows)
        record_import.next_row = next_row
        await record_import.save(using_db=conn)
        first, last = batch[0][0], batch[-1][0]
        await record_audit(
            run.actor,
            AGGREGATE,
            str(record_import.id),
            "import_batch",
            {},
            {
                "rows": [first, last],
                "record_type": record_import.record_type,
                "created": outcome.created,
                "updated": outcome.updated,
                "skipped": outcome.skipped,
                "failed_rows": sorted(outcome.failed_rows),
            },
            conn,
        )
        await append_event(
            run.actor,
            f"{AGGREGATE}.progressed",
            AGGREGATE,
            str(record_import.id),
            {"status": record_import.status, **counts_of(record_import)},
            conn,
        )
    return record_import


async def _finish(import_id: UUID, actor: Actor) -> RecordImport:
    async with in_transaction() as conn:
        record_import = (
            await RecordImport.filter(id=import_id).select_for_update().using_db(conn).get()
        )
        if record_import.status == ImportStatus.RUNNING:
            record_import.status = ImportStatus.COMPLETED
            record_import.finished_at = datetime.now(UTC)
            await record_import.save(using_db=conn)
            await append_event(
                actor,
                f"{AGGREGATE}.completed",
                AGGREGATE,
                str(import_id),
                snapshot(record_import),
                conn,
            )
    return record_import


async def import_rows(
    storage: Storage,
    limits: ImportLimits,
    import_id: UUID,
    heartbeat: Callable[..., None],
    max_batches: int,
) -> ImportProgress:
    """Import up to `max_batches` batches from the import's `next_row` on; its progress
    after them (done once the file is through, or the import was cancelled). `heartbeat`
    is called after each batch with the import's counts."""
    record_import = await RecordImport.get(id=import_id)
    if record_import.status != ImportStatus.RUNNING:
        return _progress(record_import)
    target = target_of(record_import.record_type)
    acting = run_actor(record_import)
    custom = {c.key: c for c in await list_custom_fields(acting, [record_import.record_type])}
    run = _Run(record_import, custom, await load_duplicate_index(acting, target))
    async with local_copy(storage, record_import.storage_key) as path:
        # Closed when this call ends, mid-file too (the reader holds the file open).
        with contextlib.closing(file_rows(path, FileFormat(record_import.file_format))) as rows:
            columns = header_of(rows, limits)
            pending = (
                (number, cells)
                for number, cells in data_rows(rows, len(columns))
                if number >= record_import.next_row
            )
            batches = _batches(pending, limits.batch_rows)
            for _ in range(max_batches):
                batch = next(batches, None)
                if batch is None:
                    return _progress(await _finish(import_id, acting))
                committed = await _commit_batch(run, batch, batch[-1][0] + 1, columns)
                if committed is None:
                    return _progress(await RecordImport.get(id=import_id))
                heartbeat(counts_of(committed))
            if next(batches, None) is None:
                return _progress(await _finish(import_id, acting))
    return _progress(await RecordImport.get(id=import_id))
