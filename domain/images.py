"""Images on records (an agency's logo, a user's picture): the document must be a live one on
that record, and an image every mail client and browser shows."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from db.documents import Document
from domain.errors import DomainError

# No SVG: it can carry scripts.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


async def attached_image(
    agency_id: UUID,
    record_type: str,
    record_id: UUID,
    document_id: UUID,
    max_bytes: int,
    conn: BaseDBAsyncClient,
    codes: type[StrEnum],
    field: str,
) -> None:
    """NOT_FOUND unless the document is a live one on that record; INVALID unless it is an
    image of at most `max_bytes` (an agency's logo, a user's picture)."""
    document = (
        await Document.filter(
            id=document_id,
            agency_id=agency_id,
            record_type=record_type,
            record_id=record_id,
            deleted_at__isnull=True,
        )
        .using_db(conn)
        .first()
    )
    if document is None:
        raise DomainError(
            codes("NOT_FOUND"),
            f"No such document on the {record_type}: upload the image to it first.",
            field,
        )
    if document.content_type not in IMAGE_TYPES or document.size > max_bytes:
        raise DomainError(
            codes("INVALID"),
            f"Use a PNG, JPEG, GIF or WebP image of at most {max_bytes:,} bytes.",
            field,
        )
