"""Document types and payloads. Files go up and come down over plain HTTP (`POST /documents`,
`GET /documents/{id}`); GraphQL lists, describes and deletes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.documents import Document as DocumentRecord
from domain.documents import DocumentErrorCode
from resolvers import documents as resolve
from resolvers import related
from schema.enum_values import error_code_enum
from schema.notes import record_global_id
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
from schema.users import UserSummary

error_code_enum(DocumentErrorCode, "DocumentErrorCode", "documents")

DOWNLOAD_PATH = "/documents"


@strawberry.type(description="A file on a contact, a customer, a lead or a deal.")
class Document(relay.Node):
    id: relay.NodeID[str] = node_id()
    file_name: str = strawberry.field(description="The uploaded file's name, made safe.")
    content_type: str = strawberry.field(
        description="Its media type as uploaded, e.g. application/pdf."
    )
    size: int = strawberry.field(description="In bytes.")
    sha256: str = strawberry.field(description="Hex digest of the content.")
    created_at: datetime = created_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, DocumentRecord))

    @strawberry.field(description="The Contact, Customer, Lead or Deal the document is on.")
    def record_id(self, root: strawberry.Parent[DocumentRecord]) -> relay.GlobalID:
        return record_global_id(root.record_type, root.record_id)

    @strawberry.field(description="Who uploaded it (null: an API key, or a user you cannot see).")
    async def uploaded_by(
        self, info: Info, root: strawberry.Parent[DocumentRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.uploaded_by_user_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Where to GET the file, relative to the API's origin, with the same "
        "Authorization header as GraphQL."
    )
    def download_path(self, root: strawberry.Parent[DocumentRecord]) -> str:
        return f"{DOWNLOAD_PATH}/{relay.GlobalID('Document', str(root.id))}"


@strawberry.type(description="A problem with the input; nothing was changed.")
class DocumentError:
    field: str | None = error_field()
    code: DocumentErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class DocumentPayload:
    document: Document | None = payload_record("document")
    errors: list[DocumentError] = payload_errors()


@strawberry.input(description="The document to delete (soft).")
class DeleteDocumentInput:
    id: relay.GlobalID = node_id()


async def documents_of(
    info: Info, record_type: str, record_id: Any, first: int, after: str | None
) -> relay.Connection[Document]:
    return await resolve.documents_of(info.context, record_type, record_id, first, after)


@strawberry.type
class DocumentMutation:
    @strawberry.mutation(description="Soft delete: the document is no longer listed or served.")
    async def delete_document(
        self, info: Info, input: Annotated[DeleteDocumentInput, MUTATION_INPUT]
    ) -> DocumentPayload:
        outcome = await resolve.delete_document(info.context, input.id)
        return DocumentPayload(
            document=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(DocumentError, outcome.errors),
        )
