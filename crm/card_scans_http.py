"""Visiting cards over plain HTTP: `POST /card-scans?fileName=<name>`, the body being the
photo (PNG, JPEG or WebP) and `Content-Type` its media type. The answer (201) is the draft:
the fields read, each with its confidence; GraphQL reads it again (`cardScan`) and confirms
it (`confirmCardScan`). Streamed and authenticated like `POST /documents`
(crm/documents_http.py says why a plain body, not a GraphQL multipart upload)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry import relay

from crm.documents_http import error_response, request_actor
from domain import card_scans
from domain.auth import AuthConfig
from domain.card_reader import CardReader
from domain.card_scans import CardScan, CardScanErrorCode
from domain.errors import DomainError, DomainErrors
from domain.storage import Storage
from schema.documents import DOWNLOAD_PATH

RECORD = "cardScan"


def card_scan_json(scan: CardScan) -> dict[str, Any]:
    """The draft: its global id and status as GraphQL gives them, the fields read (each a
    value and a confidence), the lines read, and where to download the photo."""
    photo = str(relay.GlobalID("Document", str(scan.document_id)))
    return {
        "id": str(relay.GlobalID("CardScan", str(scan.id))),
        "status": scan.status.upper(),
        "fields": scan.extracted,
        "lines": scan.lines,
        "photoPath": f"{DOWNLOAD_PATH}/{photo}",
    }


class CardScanUploads:
    """The upload endpoint, with the reader, storage and auth the composition root chose."""

    def __init__(self, auth: AuthConfig, reader: CardReader, storage: Storage) -> None:
        self.auth = auth
        self.reader = reader
        self.storage = storage

    async def upload(self, request: Request) -> Response:
        actor = await request_actor(self.auth, request, RECORD)
        if isinstance(actor, Response):
            return actor
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.reader.limits.max_bytes:
            too_large = DomainError(
                CardScanErrorCode.FILE_TOO_LARGE,
                f"Card photos may be at most {self.reader.limits.max_bytes} bytes.",
                "file",
            )
            return error_response(too_large, RECORD)
        try:
            scan = await card_scans.scan_card(
                actor,
                self.reader,
                self.storage,
                request.query_params.get("fileName", ""),
                request.headers.get("content-type", ""),
                request.stream(),
            )
        except (DomainError, DomainErrors) as exc:
            return error_response(exc, RECORD)
        return JSONResponse({RECORD: card_scan_json(scan), "errors": []}, status_code=201)
