"""Document files over plain HTTP: `POST /documents` uploads, `GET /documents/{id}` downloads.

Why not a GraphQL multipart mutation: the request body here *is* the file, streamed straight
into the storage with its size capped as it arrives, instead of being parsed as a form and
spooled to a temporary file first; no multipart parser joins the dependencies; and the
GraphQL endpoint keeps its small body limit. Cross-site requests cannot upload: the API reads
credentials only from the `Authorization` header (no cookies), which a browser never adds to a
cross-site request without a CORS preflight, and this app answers no preflight.

Both take the same `Authorization: Bearer <access token or API key>` as GraphQL and the same
row scope as the record the document is on. Anything the caller may not see, another
agency's documents included, is 404, never 403.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry import relay

from crm.graphql_http import bearer
from domain import documents
from domain.actors import Actor
from domain.auth import AuthConfig, actor_for_credentials
from domain.documents import Document, DocumentErrorCode, UploadLimits, content_disposition
from domain.errors import DomainError, DomainErrors, errors_of
from domain.storage import MissingObject, Storage
from resolvers.errors import input_path
from resolvers.inputs import document_record
from schema.documents import DOWNLOAD_PATH
from schema.observability import current_request

STATUS_OF = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "FILE_TOO_LARGE": 413,
    "CONTENT_TYPE_NOT_ALLOWED": 415,
    "IMAGE_TOO_LARGE": 413,
    "INVALID_IMAGE": 422,
    "UNREADABLE": 422,
}


def _error(code: str, message: str, field: str | None = None, record: str = "document") -> Response:
    body = {record: None, "errors": [{"field": field, "code": code, "message": message}]}
    return JSONResponse(body, status_code=STATUS_OF.get(code, 400))


def error_response(exc: DomainError | DomainErrors, record: str = "document") -> Response:
    """Expected errors as `{<record>: null, errors: [...]}` with the HTTP status of the first."""
    found = errors_of(exc)
    body = {
        record: None,
        "errors": [
            {"field": input_path(e.field), "code": str(e.code), "message": e.message} for e in found
        ],
    }
    return JSONResponse(body, status_code=STATUS_OF.get(str(found[0].code), 400))


def document_json(document: Document) -> dict[str, Any]:
    """The document as the GraphQL `Document` type names its fields."""
    global_id = str(relay.GlobalID("Document", str(document.id)))
    return {
        "id": global_id,
        "fileName": document.file_name,
        "contentType": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "createdAt": document.created_at.isoformat(),
        "downloadPath": f"{DOWNLOAD_PATH}/{global_id}",
    }


async def request_actor(
    auth: AuthConfig, request: Request, record: str = "document"
) -> Actor | Response:
    """The actor of `Authorization: Bearer <access token or API key>`, or a 401 answer."""
    credentials = bearer(request.headers.get("authorization"))
    if credentials is None:
        return _error(
            "UNAUTHENTICATED",
            "Sign in first (Authorization: Bearer <token or API key>).",
            record=record,
        )
    log = current_request.get()
    try:
        return await actor_for_credentials(auth, credentials, log.request_id if log else "")
    except DomainError as exc:
        return _error("UNAUTHENTICATED", exc.message, record=record)


class DocumentFiles:
    """The two endpoints, with the storage and limits the composition root chose."""

    def __init__(self, auth: AuthConfig, storage: Storage, limits: UploadLimits) -> None:
        self.auth = auth
        self.storage = storage
        self.limits = limits

    async def upload(self, request: Request) -> Response:
        """`POST /documents?recordId=<id>&fileName=<name>`, the body being the file and
        `Content-Type` its media type; the record a Contact, Customer, Lead, Deal, or the
        Agency (admins: its logo). 201 with the document, or an error."""
        actor = await request_actor(self.auth, request)
        if isinstance(actor, Response):
            return actor
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            return _error(
                DocumentErrorCode.FILE_TOO_LARGE,
                f"Files may be at most {self.limits.max_bytes} bytes.",
                "file",
            )
        try:
            record_type, record_id = document_record(
                relay.GlobalID.from_id(request.query_params.get("recordId", "")),
                DocumentErrorCode,
            )
        except (ValueError, DomainError):
            return _error(
                DocumentErrorCode.NOT_FOUND, "No such contact, customer, lead or deal.", "recordId"
            )
        try:
            document = await documents.upload_document(
                actor,
                self.storage,
                self.limits,
                record_type,
                record_id,
                request.query_params.get("fileName", ""),
                request.headers.get("content-type", ""),
                request.stream(),
            )
        except (DomainError, DomainErrors) as exc:
            return error_response(exc)
        return JSONResponse({"document": document_json(document), "errors": []}, status_code=201)

    async def download(self, request: Request) -> Response:
        """`GET /documents/{id}`: the file as an attachment, never rendered by the browser."""
        actor = await request_actor(self.auth, request)
        if isinstance(actor, Response):
            return actor
        not_found = _error(DocumentErrorCode.NOT_FOUND, "No such document.", "id")
        try:
            global_id = relay.GlobalID.from_id(request.path_params["id"])
            if global_id.type_name != "Document":
                return not_found
            document_id = UUID(global_id.node_id)
        except ValueError:
            return not_found
        try:
            document, chunks = await documents.open_document(actor, self.storage, document_id)
        except (DomainError, MissingObject):
            return not_found
        return StreamingResponse(
            chunks,
            media_type=document.content_type,
            headers={
                "content-length": str(document.size),
                "content-disposition": content_disposition(document.file_name),
                "x-content-type-options": "nosniff",
                "content-security-policy": "default-src 'none'; sandbox",
                "cache-control": "private, no-store",
            },
        )
