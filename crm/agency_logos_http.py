"""`GET /logos/{id}`: an agency's current logo, public, because emails show it to anyone.

Only a document that is some agency's logo right now is served (an old or any other document
id is 404 like everything unknown), as an image that is never sniffed or run, cached for a day.
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from domain import documents
from domain.errors import DomainError
from domain.storage import MissingObject, Storage


class AgencyLogos:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def show(self, request: Request) -> Response:
        not_found = PlainTextResponse("Not found.", status_code=404)
        try:
            document_id = UUID(request.path_params["id"])
        except ValueError:
            return not_found
        try:
            document, chunks = await documents.open_agency_logo(self.storage, document_id)
        except (DomainError, MissingObject):
            return not_found
        return StreamingResponse(
            chunks,
            media_type=document.content_type,
            headers={
                "content-length": str(document.size),
                "x-content-type-options": "nosniff",
                "content-security-policy": "default-src 'none'; sandbox",
                "cache-control": "public, max-age=86400",
            },
        )
