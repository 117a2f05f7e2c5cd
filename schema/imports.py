"""Imports: a CSV or XLSX file of contacts, customers or leads, its mapping and progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.imports import DuplicatePolicy, ImportErrorCode, ImportStatus, counts_of
from domain.imports import RecordImport as RecordImportRow
from resolvers import imports as resolve
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

ERROR_REPORT_PATH = "/imports/{id}/errors.csv"

error_code_enum(ImportErrorCode, "ImportErrorCode", "imports")
described_enum(
    ImportStatus,
    "ImportStatus",
    "Where an import is.",
    {
        "UPLOADED": "Read and waiting for its mapping (`startRecordImport`).",
        "RUNNING": "Importing, batch by batch.",
        "COMPLETED": "Every row was created, updated, skipped or failed.",
        "CANCELLED": "Stopped; the batches imported before stay.",
    },
)
described_enum(
    DuplicatePolicy,
    "ImportDuplicatePolicy",
    "What a row does when it matches an existing record (same email or phone, normalised).",
    {
        "SKIP": "Leave the record as it is; the row counts as skipped.",
        "UPDATE": "Overwrite the record's fields with the row's non-empty cells.",
        "MERGE": "Fill only the record's empty fields from the row (lists gain the row's "
        "values); nothing it holds is overwritten.",
        "CREATE_ANYWAY": "Create a new record regardless.",
    },
)


@strawberry.type(description="Which record field a column of the file fills.")
class ImportColumnMapping:
    column: str = strawberry.field(description="The column's name in the file's header.")
    field: str = strawberry.field(
        description="A field of the record type (`first_name`, `email`, ...) or "
        "`custom:<key>` for a custom field."
    )


@strawberry.type(description="An uploaded file of records and how far its import is.")
class RecordImport(relay.Node):
    id: relay.NodeID[str] = node_id()
    record_type: str = strawberry.field(description="contact, customer or lead.")
    file_name: str = strawberry.field(description="The file's name as uploaded.")
    file_format: str = strawberry.field(description="csv or xlsx.")
    status: ImportStatus = strawberry.field(description="Where the import is.")
    duplicate_policy: DuplicatePolicy = strawberry.field(
        description="What a row matching an existing record does."
    )
    start_flows: bool = strawberry.field(
        description="Whether the imported records start the flows their events trigger."
    )
    columns: list[str] = strawberry.field(description="The file's columns, in order.")
    total_rows: int = strawberry.field(description="Data rows in the file (blank rows aside).")
    created: int = strawberry.field(description="Records created so far.")
    updated: int = strawberry.field(description="Existing records updated (or merged into).")
    skipped: int = strawberry.field(description="Rows skipped as duplicates.")
    failed: int = strawberry.field(description="Rows not imported: see the error report.")
    created_at: datetime = created_at()
    finished_at: datetime | None = strawberry.field(
        description="When it completed or was cancelled."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, RecordImportRow))

    @strawberry.field(description="Rows done so far: created + updated + skipped + failed.")
    def rows_done(self, root: strawberry.Parent[RecordImportRow]) -> int:
        return counts_of(root)["rows_done"]

    @strawberry.field(description="The confirmed mapping (empty until started).")
    def mapping(self, root: strawberry.Parent[RecordImportRow]) -> list[ImportColumnMapping]:
        return [ImportColumnMapping(column=c, field=f) for c, f in root.mapping.items()]

    @strawberry.field(
        description="Where to download the error report (CSV: row, column, problem) with the "
        "same Authorization header."
    )
    def error_report_path(self, root: strawberry.Parent[RecordImportRow]) -> str:
        global_id = str(relay.GlobalID("RecordImport", str(root.id)))
        return ERROR_REPORT_PATH.replace("{id}", global_id)


@strawberry.input(description="Which field one column fills.")
class ImportColumnMappingInput:
    column: str = strawberry.field(description="A column of the file's header.")
    field: str = strawberry.field(description="A record field, or `custom:<key>`.")


@strawberry.input(
    description="Confirm an uploaded import's mapping and duplicate policy; it starts. "
    "Columns left out are not imported. Errors: NOT_FOUND, NOT_STARTABLE, UNKNOWN_COLUMN, "
    "UNKNOWN_FIELD, FIELD_MAPPED_TWICE, REQUIRED_FIELD_UNMAPPED, FORBIDDEN."
)
class StartRecordImportInput:
    id: relay.GlobalID = strawberry.field(description="A RecordImport id (from the upload).")
    mapping: list[ImportColumnMappingInput] = strawberry.field(
        description="Column to field, at most one column per field."
    )
    duplicate_policy: DuplicatePolicy = strawberry.field(
        default=DuplicatePolicy.SKIP, description="SKIP when left out."
    )
    start_flows: bool = strawberry.field(
        default=True,
        description="Whether each imported record starts the flows its event triggers (a new "
        "contact's nurture), as one created through the API does. True when left out.",
    )


@strawberry.input(description="The import to stop.")
class CancelRecordImportInput:
    id: relay.GlobalID = strawberry.field(description="A RecordImport id.")


@strawberry.type(description="A problem with the input; nothing was changed.")
class ImportError:
    field: str | None = error_field()
    code: ImportErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the import as saved, or the errors that stopped "
    "it (then nothing was changed)."
)
class RecordImportPayload:
    record_import: RecordImport | None = payload_record("recordImport")
    errors: list[ImportError] = payload_errors()


def _payload(outcome: Any) -> RecordImportPayload:
    return RecordImportPayload(
        record_import=outcome.value, errors=errors_as(ImportError, outcome.errors)
    )


@strawberry.type
class ImportQuery:
    @strawberry.field(
        description="One import and its progress (admins; sales heads their team's; sales "
        "people and marketing their own; API keys with read)."
    )
    async def record_import(
        self,
        info: Info,
        id: Annotated[
            relay.GlobalID, strawberry.argument(description="A RecordImport id (the upload's).")
        ],
    ) -> RecordImport | None:
        return await resolve.record_import(info.context, id)  # type: ignore[return-value]


@strawberry.type
class ImportMutation:
    @strawberry.mutation(
        description="Start an uploaded import (`POST /imports`) with the confirmed mapping."
    )
    async def start_record_import(
        self, info: Info, input: Annotated[StartRecordImportInput, MUTATION_INPUT]
    ) -> RecordImportPayload:
        return _payload(await resolve.start(info.context, input))

    @strawberry.mutation(
        description="Stop an import: no further batch starts; rows imported stay. Errors: "
        "NOT_FOUND, NOT_CANCELLABLE (it has finished), FORBIDDEN."
    )
    async def cancel_record_import(
        self, info: Info, input: Annotated[CancelRecordImportInput, MUTATION_INPUT]
    ) -> RecordImportPayload:
        return _payload(await resolve.cancel(info.context, input.id))
