"""Privacy exports over plain HTTP: `GET /privacy/contacts/{id}/export` streams the archive.

A download, like a document's: the same bearer credentials, the body a zip file offered as an
attachment. Only admins export (`domain.contact_export`); anything else, another agency's
contact included, is the same 404 as an unknown id, never 403, except a signed-in user without
the right, who is told so.
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry import relay

from crm.documents_http import STATUS_OF, request_actor
from db.agencies import Agency
from domain.auth import AuthConfig
from domain.contact_export import export_contact
from domain.documents import content_disposition
from domain.errors import DomainError
from domain.personal_data import PersonalDataErrorCode
from domain.storage import Storage

EXPORT_PATH = "/privacy/contacts/{id}/export"


def _refused(error: DomainError) -> Response:
    body = {"errors": [{"field": error.field, "code": str(error.code), "message": error.message}]}
    return JSONResponse(body, status_code=STATUS_OF.get(str(error.code), 400))


class PrivacyExports:
    """The export endpoint, with the storage the composition root chose."""

    def __init__(self, auth: AuthConfig, storage: Storage) -> None:
        self.auth = auth
        self.storage = storage

    async def export(self, request: Request) -> Response:
        """The contact's archive as `contact-<id>.zip`."""
        actor = await request_actor(self.auth, request)
        if isinstance(actor, Response):
            return actor
        not_found = DomainError(PersonalDataErrorCode.NOT_FOUND, "No such contact.", "id")
        try:
            global_id = relay.GlobalID.from_id(request.path_params["id"])
            contact_id = UUID(global_id.node_id)
        except ValueError:
            return _refused(not_found)
        if global_id.type_name != "Contact":
            return _refused(not_found)
        agency = await Agency.get(id=actor.agency_id)
        try:
            chunks = await export_contact(actor, self.storage, contact_id, agency.name)
        except DomainError as exc:
            return _refused(not_found if exc.code == PersonalDataErrorCode.ALREADY_ERASED else exc)
        return StreamingResponse(
            chunks,
            media_type="application/zip",
            headers={
                "content-disposition": content_disposition(f"contact-{contact_id}.zip"),
                "x-content-type-options": "nosniff",
                "cache-control": "private, no-store",
            },
        )
