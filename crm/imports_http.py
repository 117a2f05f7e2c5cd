"""Import files over plain HTTP: `POST /imports` uploads a CSV or XLSX file and answers its
columns, sample rows and a suggested mapping; `GET /imports/{id}/errors.csv` downloads the
error report. The body is the file, streamed into the storage with its size capped as it
arrives, as documents are (`crm.documents_http` says why not a GraphQL upload)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry import relay

from crm.documents_http import STATUS_OF, request_actor
from domain import imports
from domain.auth import AuthConfig
from domain.errors import DomainError, DomainErrors, errors_of
from domain.import_files import ImportLimits
from domain.imports import ImportErrorCode, ImportPreview, RecordImport, counts_of
from domain.storage import Storage
from resolvers.errors import input_path
from schema.imports import ERROR_REPORT_PATH

UPLOAD_PATH = "/imports"
_STATUS_OF = {**STATUS_OF, "TOO_MANY_ROWS": 413, "TOO_MANY_COLUMNS": 413}


def _errors(exc: DomainError | DomainErrors) -> Response:
    found = errors_of(exc)
    body = {
        "recordImport": None,
        "errors": [
            {"field": input_path(e.field), "code": str(e.code), "message": e.message} for e in found
        ],
    }
    return JSONResponse(body, status_code=_STATUS_OF.get(str(found[0].code), 400))


def import_json(record_import: RecordImport) -> dict[str, Any]:
    """The import as the GraphQL `RecordImport` type names its fields."""
    global_id = str(relay.GlobalID("RecordImport", str(record_import.id)))
    counts = counts_of(record_import)
    return {
        "id": global_id,
        "recordType": record_import.record_type,
        "fileName": record_import.file_name,
        "fileFormat": record_import.file_format,
        "status": str(record_import.status).upper(),
        "columns": list(record_import.columns),
        "totalRows": counts["total_rows"],
        "rowsDone": counts["rows_done"],
        "errorReportPath": ERROR_REPORT_PATH.replace("{id}", global_id),
    }


def preview_json(preview: ImportPreview) -> dict[str, Any]:
    return {
        "recordImport": import_json(preview.record_import),
        "sampleRows": preview.samples,
        "suggestedMapping": [
            {"column": column, "field": field} for column, field in preview.suggested.items()
        ],
        "fields": preview.fields,
        "errors": [],
    }


class ImportFiles:
    """The two endpoints, with the storage and limits the composition root chose."""

    def __init__(self, auth: AuthConfig, storage: Storage, limits: ImportLimits) -> None:
        self.auth = auth
        self.storage = storage
        self.limits = limits

    async def upload(self, request: Request) -> Response:
        """`POST /imports?recordType=contact&fileName=people.csv`, the body being the file.
        201 with the import (status UPLOADED), its sample rows and a suggested mapping."""
        actor = await request_actor(self.auth, request)
        if isinstance(actor, Response):
            return actor
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            return _errors(
                DomainError(
                    ImportErrorCode.FILE_TOO_LARGE,
                    f"Files may be at most {self.limits.max_bytes} bytes.",
                    "file",
                )
            )
        try:
            preview = await imports.upload_import(
                actor,
                self.storage,
                self.limits,
                request.query_params.get("recordType", "contact"),
                request.query_params.get("fileName", ""),
                request.stream(),
            )
        except (DomainError, DomainErrors) as exc:
            return _errors(exc)
        return JSONResponse(preview_json(preview), status_code=201)

    async def error_report(self, request: Request) -> Response:
        """`GET /imports/{id}/errors.csv`: one line per problem, cells safe to open."""
        actor = await request_actor(self.auth, request)
        if isinstance(actor, Response):
            return actor
        not_found = DomainError(ImportErrorCode.NOT_FOUND, "No such import.", "id")
        try:
            global_id = relay.GlobalID.from_id(request.path_params["id"])
            import_id = UUID(global_id.node_id)
        except ValueError:
            return _errors(not_found)
        if global_id.type_name != "RecordImport":
            return _errors(not_found)
        try:
            record_import, report = await imports.error_report(actor, import_id)
        except DomainError as exc:
            return _errors(exc)
        name = f"import-{record_import.id}-errors.csv"
        return Response(
            report,
            media_type="text/csv; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="{name}"',
                "x-content-type-options": "nosniff",
                "cache-control": "private, no-store",
            },
        )
