"""Imports: contacts, customers or leads from an uploaded CSV or XLSX file.

Upload (`upload_import`): the file is stored, read once (header, sample rows, row count,
within limits) and offered back with a suggested mapping; a file that cannot be read is
deleted again and nothing is recorded. Start (`start_import`): the user confirms the mapping
and what to do with a row that matches an existing record; the run starts through the outbox.
Run (`import_rows`, called by the `ImportRecords` workflow's activity): batches of rows, each
in one transaction with the import's counts, its `next_row`, one audit row and one
`import.progressed` event. A retried run (a worker restarted, an activity timed out) starts at
`next_row`, after the last batch that committed, so no row is imported twice.

Imported records are not audited or announced one by one (a 100,000-row file would write
200,000 rows of them): the batch's audit row lists the records it created and updated, and
each record's `source` names the import (contacts and leads; customers have no source).
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.contacts import Contact
from db.customers import Customer
from db.imports import ImportRowError as ImportRowError
from db.imports import RecordImport as RecordImport
from db.leads import Lead
from domain import tags
from domain.actors import Actor, ApiScope
from domain.audit import record_audit
from domain.contacts import ContactChanges
from domain.custom_field_values import CustomValues, custom_values
from domain.custom_fields import CustomField, CustomFieldType, list_custom_fields
from domain.customers import CustomerChanges
from domain.errors import DomainError, DomainErrors, errors_of
from domain.events import append_event
from domain.import_files import (
    FileFormat,
    ImportFileCode,
    ImportLimits,
    csv_report,
    data_rows,
    file_error,
    file_rows,
    format_of,
    header_of,
    summarise,
)
from domain.leads import LeadChanges
from domain.outbox import OutboxKind, enqueue
from domain.policies import require, rows
from domain.roles import Access, Resource, Role
from domain.sales_records import scoped
from domain.storage import Storage

AGGREGATE = "record_import"
SAMPLE_ROWS = 5
CUSTOM_PREFIX = "custom:"
LIST_SEPARATOR = re.compile(r"\s*[;,]\s*")
MAX_MESSAGE_LENGTH = 500


class ImportErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    UNKNOWN_RECORD_TYPE = "UNKNOWN_RECORD_TYPE"
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    FIELD_MAPPED_TWICE = "FIELD_MAPPED_TWICE"
    REQUIRED_FIELD_UNMAPPED = "REQUIRED_FIELD_UNMAPPED"
    NOT_STARTABLE = "NOT_STARTABLE"
    NOT_CANCELLABLE = "NOT_CANCELLABLE"
    # the file's (domain.import_files.ImportFileCode)
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    BAD_ENCODING = "BAD_ENCODING"
    BROKEN_FILE = "BROKEN_FILE"
    EMPTY_FILE = "EMPTY_FILE"
    NO_HEADER = "NO_HEADER"
    TOO_MANY_ROWS = "TOO_MANY_ROWS"
    TOO_MANY_COLUMNS = "TOO_MANY_COLUMNS"


class ImportStatus(StrEnum):
    UPLOADED = "uploaded"  # waiting for its mapping
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DuplicatePolicy(StrEnum):
    """What a row that matches an existing record does. MERGE is the merge a file can do: it
    fills only the record's empty fields (choosing values field by field is the merge of
    records, not of an import)."""

    SKIP = "skip"
    UPDATE = "update"
    MERGE = "merge"
    CREATE_ANYWAY = "create_anyway"


@dataclass(frozen=True)
class ImportTarget:
    """A record type a file can fill: its fields (with the headers that suggest them)."""

    record_type: str
    model: type[Model]
    changes: type[BaseModel]
    synonyms: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    lists: frozenset[str] = frozenset()  # fields holding several values (`;` or `,` apart)
    nested: dict[str, str] = field(default_factory=dict)  # field -> the object it sits in
    plural: dict[str, str] = field(default_factory=dict)  # field -> the list it fills
    has_source: bool = True


_ADDRESS = dict.fromkeys(("street", "city", "region", "postal_code", "country"), "address")
TARGETS: dict[str, ImportTarget] = {
    "contact": ImportTarget(
        "contact",
        Contact,
        ContactChanges,
        {
            "first_name": ("first name", "firstname", "given name", "forename", "vorname"),
            "last_name": ("last name", "lastname", "surname", "family name", "nachname"),
            "email": ("email", "e-mail", "email address", "mail"),
            "phone": ("phone", "telephone", "phone number", "mobile", "tel"),
            "company_name": ("company", "company name", "organisation", "organization"),
            "job_title": ("job title", "title", "position", "role"),
            "street": ("street", "address", "street address"),
            "city": ("city", "town"),
            "region": ("region", "state", "county", "province"),
            "postal_code": ("postal code", "postcode", "zip", "zip code"),
            "country": ("country", "country code"),
            "notes": ("notes", "note", "comment", "comments"),
            "tags": ("tags", "labels"),
        },
        ("first_name",),
        lists=frozenset({"email", "phone", "tags"}),
        nested=_ADDRESS,
        plural={"email": "emails", "phone": "phones"},
    ),
    "customer": ImportTarget(
        "customer",
        Customer,
        CustomerChanges,
        {
            "name": ("name", "company", "customer", "company name", "account"),
            "legal_name": ("legal name",),
            "website": ("website", "web", "url", "homepage"),
            "industry": ("industry", "sector"),
            "category": ("category",),
            "billing_email": ("billing email", "email", "invoice email"),
            "tax_id": ("tax id", "vat", "vat number"),
            "tags": ("tags", "labels"),
        },
        ("name",),
        lists=frozenset({"tags"}),
        has_source=False,
    ),
    "lead": ImportTarget(
        "lead",
        Lead,
        LeadChanges,
        {
            "title": ("title", "lead", "subject", "name"),
            "services": ("services", "service", "products"),
            "estimated_value": ("estimated value", "value", "amount"),
            "currency": ("currency",),
            "tags": ("tags", "labels"),
        },
        ("title",),
        lists=frozenset({"services", "tags"}),
    ),
}


def _target(record_type: str) -> ImportTarget:
    found = TARGETS.get(record_type)
    if found is None:
        raise DomainError(
            ImportErrorCode.UNKNOWN_RECORD_TYPE,
            f"Imports fill {', '.join(TARGETS)}, not {record_type!r}.",
            "record_type",
        )
    return found


def _simplified(name: str) -> str:
    """`E-Mail Address` and `email_address` alike: letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest_mapping(
    target: ImportTarget, columns: list[str], custom: list[CustomField]
) -> dict[str, str]:
    """Column -> field, where a column's name says which field (its own name, a synonym, or a
    custom field's key or label). Each field is suggested once, for its first column."""
    known: dict[str, str] = {}
    for name, synonyms in target.synonyms.items():
        for spelling in (name, *synonyms):
            known.setdefault(_simplified(spelling), name)
    for definition in custom:
        for spelling in (definition.key, definition.label):
            known.setdefault(_simplified(spelling), CUSTOM_PREFIX + definition.key)
    suggested: dict[str, str] = {}
    for column in columns:
        chosen = known.get(_simplified(column))
        if chosen is not None and chosen not in suggested.values():
            suggested[column] = chosen
    return suggested


def snapshot(record_import: RecordImport) -> dict[str, Any]:
    return {
        "id": str(record_import.id),
        "record_type": record_import.record_type,
        "file_name": record_import.file_name,
        "status": record_import.status,
        "duplicate_policy": record_import.duplicate_policy,
        "mapping": dict(record_import.mapping),
        **counts_of(record_import),
    }


def counts_of(record_import: RecordImport) -> dict[str, int]:
    done = (
        record_import.created + record_import.updated + record_import.skipped + record_import.failed
    )
    return {
        "total_rows": record_import.total_rows,
        "rows_done": done,
        "created": record_import.created,
        "updated": record_import.updated,
        "skipped": record_import.skipped,
        "failed": record_import.failed,
    }


def _actor_json(actor: Actor) -> dict[str, Any]:
    return {
        "id": actor.id,
        "user_id": str(actor.user_id) if actor.user_id else None,
        "roles": sorted(actor.roles),
        "team": sorted(str(t) for t in actor.team),
        "api_scopes": None if actor.api_scopes is None else sorted(actor.api_scopes),
    }


def _run_actor(record_import: RecordImport) -> Actor:
    """Who the run acts as: the uploader, with the rights the upload had."""
    data = record_import.actor
    scopes = data.get("api_scopes")
    return Actor(
        agency_id=record_import.agency_id,
        id=data["id"],
        request_id=f"import:{record_import.id}",
        user_id=UUID(data["user_id"]) if data.get("user_id") else None,
        roles=frozenset(Role(r) for r in data.get("roles", [])),
        team=frozenset(UUID(t) for t in data.get("team", [])),
        api_scopes=None if scopes is None else frozenset(ApiScope(s) for s in scopes),
    )


def source_of(record_import: RecordImport) -> str:
    """What an imported record's `source` says."""
    return f"import:{record_import.id}"


def workflow_id_for(record_import: RecordImport) -> str:
    return f"import-{record_import.agency_id}-{record_import.id}"


def _not_found(import_id: UUID) -> DomainError:
    return DomainError(ImportErrorCode.NOT_FOUND, f"No import with id {import_id}.", "id")


def _as_import_error(exc: DomainError) -> DomainError:
    return DomainError(ImportErrorCode(str(exc.code)), exc.message, exc.field, exc.details)


async def _capped(chunks: AsyncIterable[bytes], max_bytes: int) -> AsyncIterator[bytes]:
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise file_error(
                ImportFileCode.FILE_TOO_LARGE, f"Files may be at most {max_bytes} bytes."
            )
        yield chunk


@contextlib.asynccontextmanager
async def local_copy(storage: Storage, key: str) -> AsyncIterator[Path]:
    """The stored file as a local file for the readers (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="crm-import-") as folder:
        path = Path(folder) / "file"
        with path.open("wb") as handle:
            async for chunk in storage.open(key):
                handle.write(chunk)
        yield path


@dataclass(frozen=True)
class ImportPreview:
    record_import: RecordImport
    samples: list[list[str]]
    suggested: dict[str, str]
    fields: list[str]


def importable_fields(target: ImportTarget, custom: list[CustomField]) -> list[str]:
    return [*target.synonyms, *(CUSTOM_PREFIX + c.key for c in custom)]


async def upload_import(
    actor: Actor,
    storage: Storage,
    limits: ImportLimits,
    record_type: str,
    file_name: str,
    chunks: AsyncIterable[bytes],
) -> ImportPreview:
    """Store and read the file; its columns, first rows and a suggested mapping."""
    require(actor, Resource.IMPORTS, Access.WRITE)
    require(actor, Resource.SALES_RECORDS, Access.WRITE)
    target = _target(record_type)
    import_id = uuid.uuid4()
    key = f"{actor.agency_id}/imports/{import_id}"
    try:
        size = await storage.put(key, _capped(chunks, limits.max_bytes))
    except DomainError as exc:
        raise _as_import_error(exc) from exc
    try:
        async with local_copy(storage, key) as path:
            with path.open("rb") as handle:
                head = handle.read(8)
            if size == 0:
                raise file_error(ImportFileCode.EMPTY_FILE, "The file is empty.")
            file_format = format_of(file_name, head)
            summary = summarise(path, file_format, limits, SAMPLE_ROWS)
        custom = await list_custom_fields(actor, [record_type])
        async with in_transaction() as conn:
            record_import = await RecordImport.create(
                id=import_id,
                agency_id=actor.agency_id,
                created_by=actor.id,
                owner_id=actor.user_id,
                actor=_actor_json(actor),
                record_type=record_type,
                file_name=(file_name.replace("\\", "/").rsplit("/", 1)[-1] or "import")[:255],
                file_format=file_format,
                storage_key=key,
                size=size,
                columns=summary.columns,
                total_rows=summary.total_rows,
                using_db=conn,
            )
            after = snapshot(record_import)
            await record_audit(actor, AGGREGATE, str(import_id), "upload", {}, after, conn)
            await append_event(
                actor, f"{AGGREGATE}.uploaded", AGGREGATE, str(import_id), after, conn
            )
    except DomainError as exc:
        await storage.delete(key)
        raise _as_import_error(exc) from exc
    except BaseException:
        await storage.delete(key)
        raise
    return ImportPreview(
        record_import,
        summary.samples,
        suggest_mapping(target, summary.columns, custom),
        importable_fields(target, custom),
    )


def _readable(actor: Actor) -> Any:
    return RecordImport.filter(rows(actor, Resource.IMPORTS, Access.READ))


async def get_import(actor: Actor, import_id: UUID) -> RecordImport:
    found: RecordImport | None = await _readable(actor).get_or_none(id=import_id)
    if found is None:
        raise _not_found(import_id)
    return found


async def imports_by_ids(actor: Actor, ids: list[UUID]) -> dict[UUID, RecordImport]:
    found = await _readable(actor).filter(id__in=ids)
    return {i.id: i for i in found}


async def _locked(actor: Actor, import_id: UUID, conn: BaseDBAsyncClient) -> RecordImport:
    found: RecordImport | None = (
        await RecordImport.filter(rows(actor, Resource.IMPORTS, Access.WRITE))
        .select_for_update()
        .using_db(conn)
        .get_or_none(id=import_id)
    )
    if found is None:
        raise _not_found(import_id)
    return found


async def _check_mapping(
    actor: Actor, target: ImportTarget, columns: list[str], mapping: dict[str, str]
) -> dict[str, str]:
    """The mapping without unmapped columns, or every problem with it."""
    custom = {CUSTOM_PREFIX + c.key for c in await list_custom_fields(actor, [target.record_type])}
    chosen = {column: name.strip() for column, name in mapping.items() if name and name.strip()}
    problems: list[DomainError] = []
    seen: set[str] = set()
    for column, name in chosen.items():
        where = f"mapping.{column}"
        if column not in columns:
            problems.append(
                DomainError(
                    ImportErrorCode.UNKNOWN_COLUMN, f"The file has no column {column!r}.", where
                )
            )
        elif name not in target.synonyms and name not in custom:
            problems.append(
                DomainError(
                    ImportErrorCode.UNKNOWN_FIELD,
                    f"A {target.record_type} has no field {name!r}.",
                    where,
                )
            )
        elif name in seen:
            problems.append(
                DomainError(
                    ImportErrorCode.FIELD_MAPPED_TWICE, f"{name!r} is given by two columns.", where
                )
            )
        else:
            seen.add(name)
    problems += [
        DomainError(
            ImportErrorCode.REQUIRED_FIELD_UNMAPPED,
            f"Map a column to {name!r}: every {target.record_type} needs one.",
            "mapping",
        )
        for name in target.required
        if name not in seen
    ]
    if problems:
        raise DomainErrors(problems)
    return chosen


async def start_import(
    actor: Actor,
    import_id: UUID,
    mapping: dict[str, str],
    policy: DuplicatePolicy,
    by_workflow: bool = True,
) -> RecordImport:
    """Confirm the mapping and the duplicate policy; the run starts (through the outbox), or,
    without `by_workflow`, is left to the caller (`crm import` runs the batches itself)."""
    require(actor, Resource.SALES_RECORDS, Access.WRITE)
    async with in_transaction() as conn:
        record_import = await _locked(actor, import_id, conn)
        if record_import.status != ImportStatus.UPLOADED:
            raise DomainError(
                ImportErrorCode.NOT_STARTABLE,
                f"The import is {record_import.status}; only an uploaded one starts.",
                "id",
            )
        target = _target(record_import.record_type)
        record_import.mapping = await _check_mapping(
            actor, target, list(record_import.columns), mapping
        )
        record_import.duplicate_policy = DuplicatePolicy(policy)
        record_import.status = ImportStatus.RUNNING
        await record_import.save(using_db=conn)
        after = snapshot(record_import)
        await record_audit(actor, AGGREGATE, str(import_id), "start", {}, after, conn)
        if by_workflow:
            await enqueue(
                actor.agency_id,
                OutboxKind.START_IMPORT,
                workflow_id_for(record_import),
                {"import_id": str(import_id)},
                conn,
            )
        await append_event(actor, f"{AGGREGATE}.started", AGGREGATE, str(import_id), after, conn)
    return record_import


async def cancel_import(actor: Actor, import_id: UUID) -> RecordImport:
    """Stop an import: the batch under way finishes, no further batch starts. Rows already
    imported stay (each batch was committed whole)."""
    async with in_transaction() as conn:
        record_import = await _locked(actor, import_id, conn)
        if record_import.status not in (ImportStatus.UPLOADED, ImportStatus.RUNNING):
            raise DomainError(
                ImportErrorCode.NOT_CANCELLABLE, f"The import is {record_import.status}.", "id"
            )
        before = {"status": record_import.status}
        record_import.status = ImportStatus.CANCELLED
        record_import.finished_at = datetime.now(UTC)
        await record_import.save(using_db=conn)
        await record_audit(
            actor, AGGREGATE, str(import_id), "cancel", before, {"status": "cancelled"}, conn
        )
        await append_event(
            actor,
            f"{AGGREGATE}.cancelled",
            AGGREGATE,
            str(import_id),
            snapshot(record_import),
            conn,
        )
    return record_import


async def error_report(actor: Actor, import_id: UUID) -> tuple[RecordImport, str]:
    """The import's bad rows as CSV: row number, column and why."""
    record_import = await get_import(actor, import_id)
    found = await ImportRowError.filter(import_id=import_id).order_by("row_number", "id")
    return record_import, csv_report([(e.row_number, e.column, e.message) for e in found])


# --- the run -------------------------------------------------------------------------------


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
        self.actor = _run_actor(record_import)
        self.target = _target(record_import.record_type)
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
        await self.target.model.bulk_create([r for r, _ in self.pending], using_db=conn)
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
    target = _target(record_import.record_type)
    run_actor = _run_actor(record_import)
    custom = {c.key: c for c in await list_custom_fields(run_actor, [record_import.record_type])}
    run = _Run(record_import, custom, await load_duplicate_index(run_actor, target))
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
                    return _progress(await _finish(import_id, run_actor))
                committed = await _commit_batch(run, batch, batch[-1][0] + 1, columns)
                if committed is None:
                    return _progress(await RecordImport.get(id=import_id))
                heartbeat(counts_of(committed))
            if next(batches, None) is None:
                return _progress(await _finish(import_id, run_actor))
    return _progress(await RecordImport.get(id=import_id))
