"""Running an import: its rows in batches, each committed whole with the import's counts,
`next_row`, one audit row, one progress event and the per-record events of the records it
created or updated (`domain.imports` says why). Duplicates are found by the one detector
(`domain.duplicates`): the batch's rows against stored records in a few statements, and
against each other (`BatchMatches`), so two rows of one file are matched too."""

from __future__ import annotations

import contextlib
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
from domain import contacts, customers, leads, tags
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.custom_field_values import CustomValues, custom_values
from domain.custom_fields import CustomField, CustomFieldType, list_custom_fields
from domain.duplicates import (
    BatchMatches,
    DuplicateMatch,
    Probe,
    RecordType,
    agency_region,
    find_duplicates,
    probe_of,
)
from domain.errors import DomainError, DomainErrors, errors_of
from domain.events import NewEvent, append_event, append_events
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

# A record's snapshot for its events, as its own service writes it.
SNAPSHOTS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "contact": contacts.snapshot,
    "customer": customers.snapshot,
    "lead": leads.snapshot,
}


def probe_for(record_type: str, columns: dict[str, Any]) -> Probe | None:
    """What the detector compares a row by (leads are never matched)."""
    if record_type == RecordType.CONTACT:
        return Probe(
            RecordType.CONTACT,
            first_name=columns.get("first_name") or "",
            last_name=columns.get("last_name") or "",
            company=columns.get("company_name") or "",
            emails=tuple(columns.get("emails") or ()),
            phones=tuple(columns.get("phones") or ()),
        )
    if record_type == RecordType.CUSTOMER:
        billing = columns.get("billing_email") or ""
        return Probe(
            RecordType.CUSTOMER,
            company=columns.get("name") or "",
            emails=(billing,) if billing else (),
            website=columns.get("website") or "",
        )
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
    custom: dict[str, Any]  # custom field key -> value member
    probe: Probe | None  # what the duplicate detector compares it by


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
        custom,
        probe_for(target.record_type, columns),
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


@dataclass
class _Touched:
    """A record the batch created or updated: what its event will say."""

    record: Any
    created: bool
    before: dict[str, Any]  # its snapshot before the batch changed it (empty: created)
    custom: dict[str, Any] = field(default_factory=dict)  # custom values written, by key


class _Run:
    """One activity's share of an import: its actor, target, custom fields and region."""

    def __init__(
        self, record_import: RecordImport, custom_fields: dict[str, CustomField], region: str
    ) -> None:
        self.record_import = record_import
        self.actor = run_actor(record_import)
        self.target = target_of(record_import.record_type)
        self.mapping: dict[str, str] = dict(record_import.mapping)
        self.policy = DuplicatePolicy(record_import.duplicate_policy)
        self.custom_fields = custom_fields
        self.region = region
        self.snapshot = SNAPSHOTS[record_import.record_type]
        self.begin_batch()

    def begin_batch(self) -> None:
        self.pending: list[tuple[Any, CustomValues]] = []
        self.batch = BatchMatches(self.region)
        self.touched: dict[UUID, _Touched] = {}

    def parse(self, cells: dict[str, str]) -> ParsedRow:
        return _parse_row(self.target, self.mapping, self.custom_fields, cells)

    async def stored_matches(
        self, parsed: list[ParsedRow | None], conn: BaseDBAsyncClient
    ) -> list[list[DuplicateMatch]]:
        """Each row's matches among the stored records the importer may change: one lookup
        for the whole batch (`find_duplicates`) and one query for the importer's scope."""
        if self.policy is DuplicatePolicy.CREATE_ANYWAY:
            return [[] for _ in parsed]
        probes = [(i, row.probe) for i, row in enumerate(parsed) if row and row.probe]
        if not probes:
            return [[] for _ in parsed]
        found = await find_duplicates(
            self.actor.agency_id, [probe for _, probe in probes], self.region, conn
        )
        ids = {match.record_id for matches in found for match in matches}
        writable: set[UUID] = set()
        if ids:
            query = scoped(self.target.model, self.actor, Access.WRITE).filter(id__in=list(ids))
            found_ids = await query.using_db(conn).values_list("id", flat=True)
            writable = {UUID(str(record_id)) for record_id in found_ids}
        matches: list[list[DuplicateMatch]] = [[] for _ in parsed]
        for (i, _), of_row in zip(probes, found, strict=True):
            matches[i] = [match for match in of_row if match.record_id in writable]
        return matches

    async def row(
        self,
        parsed: ParsedRow,
        stored: list[DuplicateMatch],
        outcome: BatchOutcome,
        conn: BaseDBAsyncClient,
    ) -> None:
        existing_id = None
        if self.policy is not DuplicatePolicy.CREATE_ANYWAY and parsed.probe is not None:
            matches = [*stored, *self.batch.matches(parsed.probe)]
            if matches:
                existing_id = max(matches, key=lambda m: m.score).record_id
        if existing_id is None:
            outcome.created.append(await self._create(parsed, conn))
        elif self.policy is DuplicatePolicy.SKIP:
            outcome.skipped += 1
        else:
            await self._update(existing_id, parsed, conn)
            outcome.updated.append(str(existing_id))

    def _met(self, record: Any) -> None:
        """The batch's later rows match this record as it is now."""
        if isinstance(record, Contact | Customer):
            self.batch.add(record.id, probe_of(record))

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
        self.touched[record.id] = _Touched(record, created=True, before={})
        self._met(record)
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
            written = await custom.write(self.actor, record.id, conn)
            self.touched[record.id].custom.update(written.get("custom_fields", {}))
        self.pending = []

    async def _update(self, record_id: UUID, parsed: ParsedRow, conn: BaseDBAsyncClient) -> None:
        await self.flush(conn)  # the record may be one this batch created
        custom = await _custom_for(self, parsed, False, conn)  # fails before any change
        record: Any = await (
            self.target.model.filter(id=record_id).select_for_update().using_db(conn).get()
        )
        touched = self.touched.get(record_id)
        if touched is None:
            touched = self.touched[record_id] = _Touched(
                record, created=False, before=self.snapshot(record)
            )
        touched.record = record
        merge_only = self.policy is DuplicatePolicy.MERGE
        for name in parsed.given:
            value, current = parsed.fields[name], getattr(record, name)
            if isinstance(current, list):
                # Lists (emails, phones, tags) gain the row's values either way.
                value = list(dict.fromkeys([*current, *value]))[:10]
            elif merge_only and not _is_empty(current):
                continue
            setattr(record, name, value)
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
        written = await custom.write(self.actor, record.id, conn)
        touched.custom.update(written.get("custom_fields", {}))
        self._met(record)

    def events(self) -> list[NewEvent]:
        """One event per record the batch touched, as its own service would announce it (a
        record created and then updated by a later row of the batch: one `.created`), naming
        the import."""
        found: list[NewEvent] = []
        source = {"import_id": str(self.record_import.id)}
        aggregate = self.target.record_type
        for record_id, touched in self.touched.items():
            after = self.snapshot(touched.record)
            custom = {"custom_fields": touched.custom} if touched.custom else {}
            if touched.created:
                payload = {**after, **custom, **source}
                found.append((f"{aggregate}.created", aggregate, str(record_id), payload))
                continue
            _, changes = changed_fields(touched.before, after)
            changes.update(custom)
            if changes:
                payload = {"changes": changes, **source}
                found.append((f"{aggregate}.updated", aggregate, str(record_id), payload))
        return found


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
        run.begin_batch()
        parsed: list[ParsedRow | None] = []
        for number, cells in batch:
            try:
                parsed.append(run.parse(dict(zip(columns, cells, strict=True))))
            except RowFailed as failure:
                parsed.append(None)
                outcome.failed_rows.add(number)
                outcome.problems += [(number, p) for p in failure.problems]
        stored = await run.stored_matches(parsed, conn)
        for (number, _), row, matches in zip(batch, parsed, stored, strict=True):
            if row is None:
                continue
            try:
                # A row fails in its checks, before it writes anything.
                await run.row(row, matches, outcome, conn)
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
        # The records' own events (flows and subscriptions hear of them), then the batch's.
        await append_events(run.actor, run.events(), conn, start_flows=record_import.start_flows)
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
    acting = run_actor(record_import)
    custom = {c.key: c for c in await list_custom_fields(acting, [record_import.record_type])}
    run = _Run(record_import, custom, await agency_region(acting.agency_id))
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
