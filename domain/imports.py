"""Imports: contacts, customers or leads from an uploaded CSV or XLSX file.

Upload (`upload_import`): the file is stored, read once (header, sample rows, row count,
within limits) and offered back with a suggested mapping; a file that cannot be read is
deleted again and nothing is recorded. Start (`start_import`): the user confirms the mapping
and what to do with a row that matches an existing record; the run starts through the outbox.
Run (`domain.import_runs`, called by the `ImportRecords` workflow's activity): batches of rows, each
in one transaction with the import's counts, its `next_row`, one audit row and one
`import.progressed` event. A retried run (a worker restarted, an activity timed out) starts at
`next_row`, after the last batch that committed, so no row is imported twice.

Imported records are audited once per batch, not one by one (a 100,000-row file would write
100,000 audit rows): the batch's audit row lists the records it created and updated, and
each record's `source` names the import (contacts and leads; customers have no source). They
are announced one by one, as a record created through the API is (`contact.created`, ...,
naming the import), appended per batch in a few statements, so subscriptions, webhooks and
flows hear of them; `start_flows=False` keeps an import from starting flows.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.contacts import Contact
from db.customers import Customer
from db.imports import ImportRowError as ImportRowError
from db.imports import RecordImport as RecordImport
from db.leads import Lead
from domain.actors import Actor, ApiScope
from domain.audit import record_audit
from domain.contacts import ContactChanges
from domain.custom_fields import CustomField, list_custom_fields
from domain.customers import CustomerChanges
from domain.errors import DomainError, DomainErrors
from domain.events import append_event
from domain.import_files import (
    ImportFileCode,
    ImportLimits,
    csv_report,
    file_error,
    format_of,
    summarise,
)
from domain.leads import LeadChanges
from domain.outbox import OutboxKind, enqueue
from domain.policies import require, rows
from domain.roles import Access, Resource, Role
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


def target_of(record_type: str) -> ImportTarget:
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
        "start_flows": record_import.start_flows,
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


def run_actor(record_import: RecordImport) -> Actor:
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
    target = target_of(record_type)
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
    start_flows: bool = True,
) -> RecordImport:
    """Confirm the mapping and the duplicate policy; the run starts (through the outbox), or,
    without `by_workflow`, is left to the caller (`crm import` runs the batches itself).
    `start_flows`: whether the imported records' events start the flows they trigger (a
    new contact's nurture), as a record created through the API does."""
    require(actor, Resource.SALES_RECORDS, Access.WRITE)
    async with in_transaction() as conn:
        record_import = await _locked(actor, import_id, conn)
        if record_import.status != ImportStatus.UPLOADED:
            raise DomainError(
                ImportErrorCode.NOT_STARTABLE,
                f"The import is {record_import.status}; only an uploaded one starts.",
                "id",
            )
        target = target_of(record_import.record_type)
        record_import.mapping = await _check_mapping(
            actor, target, list(record_import.columns), mapping
        )
        record_import.duplicate_policy = DuplicatePolicy(policy)
        record_import.start_flows = start_flows
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
