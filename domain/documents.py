"""Document service: files on a contact, a customer, a lead or a deal, under the record's row
scope.

Upload order: check access, stream the bytes into the storage (counted, hashed and capped as
they arrive), then write the row, its audit entry and its event in one transaction. A file
over the limit is never stored; a failed transaction removes the stored bytes again, so the
storage and the table never disagree about a live document.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote
from uuid import UUID

from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.documents import Document as Document
from domain.actors import Actor
from domain.attachments import (
    check_attached_readable,
    check_readable,
    check_writable,
    lock_record,
)
from domain.audit import record_audit
from domain.errors import DomainError
from domain.events import append_event
from domain.pagination import Ordering, Page, keyset_page
from domain.record_changes import record_deleted
from domain.storage import Storage

AGGREGATE = "document"
MAX_FILE_NAME_LENGTH = 255
DEFAULT_FILE_NAME = "document"
OCTET_STREAM = "application/octet-stream"
_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
_MEDIA_TYPE = re.compile(rf"^{_TOKEN}/{_TOKEN}$")
NEWEST_FIRST = Ordering("created_at", descending=True)


class DocumentErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    CONTENT_TYPE_NOT_ALLOWED = "CONTENT_TYPE_NOT_ALLOWED"
    INVALID = "INVALID"


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """The largest file accepted, and the media types accepted (empty: any)."""

    max_bytes: int = 20 * 1024 * 1024
    allowed_content_types: frozenset[str] = frozenset()


def safe_file_name(given: str) -> str:
    """A name to show and to offer on download: the last path segment of what the client
    sent, without control characters or leading dots, at most 255 characters. It is never
    used as a path: storage keys are the CRM's own."""
    name = unicodedata.normalize("NFC", given).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C"))
    name = name.strip().lstrip(".").strip()
    if len(name) > MAX_FILE_NAME_LENGTH:  # shorten the stem, keep a short extension
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = f"{stem[: MAX_FILE_NAME_LENGTH - len(extension) - 1]}.{extension}"
        else:
            name = name[:MAX_FILE_NAME_LENGTH]
    return name or DEFAULT_FILE_NAME


def media_type(given: str) -> str:
    """The `type/subtype` of a Content-Type value, lowercased; octet-stream if malformed."""
    essence = given.split(";", 1)[0].strip().lower()
    return essence if _MEDIA_TYPE.match(essence) else OCTET_STREAM


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 6266's filename*."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file_name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def snapshot(document: Document) -> dict[str, Any]:
    """The document's facts for audit rows and events (the storage key stays internal)."""
    return {
        "id": str(document.id),
        "record_type": document.record_type,
        "record_id": str(document.record_id),
        "file_name": document.file_name,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "uploaded_by": document.uploaded_by,
    }


def _not_found(document_id: UUID) -> DomainError:
    return DomainError(DocumentErrorCode.NOT_FOUND, f"No document with id {document_id}.", "id")


async def _capped(
    chunks: AsyncIterable[bytes], max_bytes: int, digest: Any
) -> AsyncIterator[bytes]:
    """The chunks, hashed as they pass; FILE_TOO_LARGE as soon as they exceed the limit."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise DomainError(
                DocumentErrorCode.FILE_TOO_LARGE,
                f"Files may be at most {max_bytes} bytes.",
                "file",
                {"max_bytes": max_bytes},
            )
        digest.update(chunk)
        yield chunk


async def upload_document(
    actor: Actor,
    storage: Storage,
    limits: UploadLimits,
    record_type: str,
    record_id: UUID,
    file_name: str,
    content_type: str,
    chunks: AsyncIterable[bytes],
    document_id: UUID | None = None,
) -> Document:
    """Store a file on a record the actor may change, and record it (under `document_id`
    when the caller needs a retry to find the same document)."""
    await check_writable(actor, record_type, record_id, DocumentErrorCode)
    kind = media_type(content_type)
    if limits.allowed_content_types and kind not in limits.allowed_content_types:
        raise DomainError(
            DocumentErrorCode.CONTENT_TYPE_NOT_ALLOWED,
            f"Files of type {kind} are not accepted.",
            "content_type",
        )
    document_id = document_id or uuid.uuid4()
    key = f"{actor.agency_id}/{document_id}"
    digest = hashlib.sha256()
    size = await storage.put(key, _capped(chunks, limits.max_bytes, digest))
    try:
        async with in_transaction() as conn:
            await lock_record(actor, record_type, record_id, conn, DocumentErrorCode)
            document = await Document.create(
                id=document_id,
                agency_id=actor.agency_id,
                record_type=record_type,
                record_id=record_id,
                file_name=safe_file_name(file_name),
                content_type=kind,
                size=size,
                sha256=digest.hexdigest(),
                storage_key=key,
                uploaded_by=actor.id,
                uploaded_by_user_id=actor.user_id,
                using_db=conn,
            )
            after = snapshot(document)
            await record_audit(actor, AGGREGATE, str(document.id), "upload", {}, after, conn)
            await append_event(actor, "document.uploaded", AGGREGATE, str(document.id), after, conn)
    except BaseException:
        await storage.delete(key)
        raise
    return document


async def get_document(actor: Actor, document_id: UUID) -> Document:
    """A live document on a record the actor may read; NOT_FOUND otherwise (even for another
    agency's: its existence is not leaked)."""
    document: Document | None = await Document.filter(
        agency_id=actor.agency_id, deleted_at__isnull=True
    ).get_or_none(id=document_id)
    if document is None:
        raise _not_found(document_id)
    await check_attached_readable(
        actor, document.record_type, document.record_id, _not_found(document_id)
    )
    return document


async def open_document(
    actor: Actor, storage: Storage, document_id: UUID
) -> tuple[Document, AsyncIterator[bytes]]:
    """The document and its bytes, for a download."""
    document = await get_document(actor, document_id)
    await storage.size(document.storage_key)  # MissingObject now, not halfway through a response
    return document, storage.open(document.storage_key)


async def open_agency_logo(
    storage: Storage, document_id: UUID
) -> tuple[Document, AsyncIterator[bytes]]:
    """An agency's current logo, for anyone (emails show it): NOT_FOUND for any document that
    is not some agency's logo now, whatever it is."""
    agency = await Agency.get_or_none(logo_document_id=document_id)
    document = (
        await Document.get_or_none(id=document_id, agency_id=agency.id, deleted_at__isnull=True)
        if agency is not None
        else None
    )
    if document is None:
        raise _not_found(document_id)
    await storage.size(document.storage_key)
    return document, storage.open(document.storage_key)


async def list_documents(
    actor: Actor, record_type: str, record_id: UUID, first: int, after: str | None = None
) -> Page[Document]:
    """A record's live documents, newest first."""
    await check_readable(actor, record_type, record_id, DocumentErrorCode)
    query = Document.filter(
        agency_id=actor.agency_id,
        record_type=record_type,
        record_id=record_id,
        deleted_at__isnull=True,
    )
    return await keyset_page(query, NEWEST_FIRST, first, after)


async def delete_document(actor: Actor, document_id: UUID) -> Document:
    """Soft delete: the row and the bytes are kept (until `purge_deleted_documents`); no query
    or download finds it."""
    async with in_transaction() as conn:
        found = (
            await Document.filter(agency_id=actor.agency_id, deleted_at__isnull=True)
            .using_db(conn)
            .get_or_none(id=document_id)
        )
        if found is None:
            raise _not_found(document_id)
        await check_attached_readable(
            actor, found.record_type, found.record_id, _not_found(document_id)
        )
        await lock_record(actor, found.record_type, found.record_id, conn, DocumentErrorCode, "id")
        document: Document = (
            await Document.filter(id=document_id).using_db(conn).select_for_update().get()
        )
        document.deleted_at = datetime.now(UTC)
        await document.save(using_db=conn, update_fields=["deleted_at"])
        await record_deleted(actor, AGGREGATE, str(document.id), snapshot(document), conn)
        # A deleted logo is no logo: emails stop showing it.
        await (
            Agency.filter(id=actor.agency_id, logo_document_id=document.id)
            .using_db(conn)
            .update(logo_document_id=None)
        )
    return document


async def purge_deleted_documents(
    storage: Storage, deleted_before: datetime, batch_size: int = 200
) -> int:
    """Erase documents soft-deleted before `deleted_before`, in every agency: their bytes
    from the storage, then their rows, each with a `purge` audit entry. Returns how many.

    Bytes go first: if the row's transaction then fails, the row (already hidden from every
    reader) stays until the next run, which finds its bytes gone and removes it; bytes are
    never left behind without a row. Safe to run from several processes at once.
    """
    purged = 0
    while True:
        due = (
            await Document.filter(deleted_at__lt=deleted_before)
            .order_by("deleted_at", "id")
            .limit(batch_size)
        )
        for document in due:
            await storage.delete(document.storage_key)
            async with in_transaction() as conn:
                removed = await Document.filter(id=document.id).using_db(conn).delete()
                if removed:
                    actor = Actor.system(document.agency_id, "document-purge")
                    before = snapshot(document)
                    await record_audit(
                        actor, AGGREGATE, str(document.id), "purge", before, {}, conn
                    )
                    purged += 1
        if len(due) < batch_size:
            return purged
