"""Document resolvers: thin calls into domain.documents (uploads and downloads are plain HTTP,
in `crm.documents_http`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import documents
from domain.documents import Document, DocumentErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import node_uuid
from resolvers.pagination import connection

TYPE_NAME = "Document"


def document_uuid(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, DocumentErrorCode)


async def delete_document(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Document]:
    actor = actor_of(context)
    return await attempt(
        DocumentErrorCode, lambda: documents.delete_document(actor, document_uuid(global_id))
    )


async def documents_of(
    context: RequestContext, record_type: str, record_id: UUID, first: int, after: str | None
) -> relay.Connection[Any]:
    actor = actor_of(context)
    page = await answer(documents.list_documents(actor, record_type, record_id, first, after))
    return connection(page)
