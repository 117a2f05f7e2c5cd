"""Card scan service: a photographed visiting card becomes a draft contact, which the user
confirms (correcting what the OCR misread) into a real one, or discards it.

Scanning reads the photo first (`domain.card_reader`, off the event loop) and stores nothing
if it is not an image, too large, or unreadable in time. Then the scan is written (its
audit row and event in the same transaction) and the photo is stored as a document on it,
under the scan's row scope: whoever may read the scan downloads the photo. Confirming
creates the contact through `domain.contacts.create_contact`, the path `createContact`
takes, so its validation, audit, events and flows are the same; the scan is claimed first
(draft to confirmed in one conditional update), so two confirmations never create two
contacts, and handed back to draft if the contact is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.card_scans import CardScan as CardScan
from db.documents import Document
from domain import contacts, documents
from domain.actors import Actor
from domain.card_fields import extract_fields, split_address, split_name
from domain.card_reader import CardReader
from domain.documents import UploadLimits
from domain.errors import DomainError, DomainErrors, errors_of
from domain.images import IMAGE_TYPES
from domain.pagination import Ordering, Page, keyset_page
from domain.policies import require
from domain.record_changes import record_created, record_updated
from domain.record_deletion import soft_delete
from domain.roles import Access, Resource
from domain.sales_records import locked, scoped
from domain.storage import Storage

AGGREGATE = "card_scan"
NEWEST_FIRST = Ordering("created_at", descending=True)
# GIF is no photo format; the OCR reads the other image types documents accept.
CARD_IMAGE_TYPES = IMAGE_TYPES - {"image/gif"}


class CardScanStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"


class CardScanErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    CONTENT_TYPE_NOT_ALLOWED = "CONTENT_TYPE_NOT_ALLOWED"
    INVALID_IMAGE = "INVALID_IMAGE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    UNREADABLE = "UNREADABLE"
    ALREADY_CONFIRMED = "ALREADY_CONFIRMED"
    # from the contact the confirmation creates (domain.contacts.ContactErrorCode)
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    NOT_TEXT = "NOT_TEXT"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    NOT_A_DATE = "NOT_A_DATE"
    NOT_A_BOOLEAN = "NOT_A_BOOLEAN"
    NOT_A_CHOICE = "NOT_A_CHOICE"


def snapshot(scan: CardScan) -> dict[str, Any]:
    """The scan's facts for audit rows and events."""
    return {
        "id": str(scan.id),
        "status": scan.status,
        "owner_id": str(scan.owner_id) if scan.owner_id else None,
        "document_id": str(scan.document_id) if scan.document_id else None,
        "fields": scan.extracted,
        "contact_id": str(scan.contact_id) if scan.contact_id else None,
    }


def _not_found(scan_id: UUID) -> DomainError:
    return DomainError(CardScanErrorCode.NOT_FOUND, f"No card scan with id {scan_id}.", "id")


async def _read_capped(chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    """The whole body (OCR needs it in memory), FILE_TOO_LARGE past `max_bytes`."""
    body = bytearray()
    async for chunk in chunks:
        body.extend(chunk)
        if len(body) > max_bytes:
            raise DomainError(
                CardScanErrorCode.FILE_TOO_LARGE,
                f"Card photos may be at most {max_bytes} bytes.",
                "file",
                {"max_bytes": max_bytes},
            )
    return bytes(body)


async def _one_chunk(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def scan_card(
    actor: Actor,
    reader: CardReader,
    storage: Storage,
    file_name: str,
    content_type: str,
    chunks: AsyncIterator[bytes],
) -> CardScan:
    """Read a card photo into a draft (status DRAFT) with the fields found, and keep the
    photo on it."""
    require(actor, Resource.SALES_RECORDS, Access.WRITE)
    kind = documents.media_type(content_type)
    if kind not in CARD_IMAGE_TYPES:
        raise DomainError(
            CardScanErrorCode.CONTENT_TYPE_NOT_ALLOWED,
            "Upload the card as a PNG, JPEG or WebP image.",
            "content_type",
        )
    max_bytes = reader.limits.max_bytes
    image = await _read_capped(chunks, max_bytes)
    lines = await reader.read(image)
    agency = await Agency.get(id=actor.agency_id)
    found = extract_fields(lines, region=agency.country)
    scan_id = uuid.uuid4()
    async with in_transaction() as conn:
        scan = await CardScan.create(
            id=scan_id,
            agency_id=actor.agency_id,
            owner_id=actor.user_id,
            status=CardScanStatus.DRAFT,
            document_id=uuid.uuid4(),
            extracted={k: {"value": f.value, "confidence": f.confidence} for k, f in found.items()},
            lines=[{"text": line.text, "confidence": round(line.confidence, 3)} for line in lines],
            using_db=conn,
        )
        await record_created(actor, AGGREGATE, str(scan.id), snapshot(scan), conn)
    try:
        await documents.upload_document(
            actor,
            storage,
            UploadLimits(max_bytes, frozenset({kind})),
            AGGREGATE,
            scan.id,
            file_name or "card",
            kind,
            _one_chunk(image),
            document_id=scan.document_id,
        )
    except BaseException:
        await CardScan.filter(id=scan.id).delete()
        raise
    return scan


async def get_card_scan(actor: Actor, scan_id: UUID) -> CardScan:
    scan: CardScan | None = await scoped(CardScan, actor).get_or_none(id=scan_id)
    if scan is None:
        raise _not_found(scan_id)
    return scan


async def list_card_scans(
    actor: Actor, first: int, after: str | None = None, status: CardScanStatus | None = None
) -> Page[CardScan]:
    """The scans the actor may see, newest first (only those with `status`, if given)."""
    query = scoped(CardScan, actor)
    if status is not None:
        query = query.filter(status=status)
    return await keyset_page(query, NEWEST_FIRST, first, after)


def draft_contact(scan: CardScan) -> dict[str, Any]:
    """The contact the scan's fields make, as `create_contact` takes it."""
    value = {name: str(field["value"]) for name, field in scan.extracted.items()}
    first_name, last_name = split_name(value.get("name", ""))
    address = split_address(value.get("address", ""))
    return {
        "first_name": first_name,
        "last_name": last_name,
        "job_title": value.get("title", ""),
        "company_name": value.get("company", ""),
        "emails": [value["email"]] if value.get("email") else [],
        "phones": [value["phone"]] if value.get("phone") else [],
        "website": value.get("website", ""),
        "address": {
            "street": address.street,
            "city": address.city,
            "region": address.region,
            "postal_code": address.postal_code,
        },
    }


def _contact_data(scan: CardScan, corrections: dict[str, Any]) -> dict[str, Any]:
    """The draft with the user's corrections over it; the website, which contacts have no
    field for, goes into the notes."""
    data = {**draft_contact(scan), **corrections}
    website = str(data.pop("website", "") or "").strip()
    if website:
        notes = str(data.get("notes", "") or "")
        data["notes"] = f"{notes}\nWebsite: {website}".strip()
    data.setdefault("source", "visiting card")
    return data


def _as_scan_errors(exc: DomainError | DomainErrors) -> DomainErrors:
    """The contact's refusal in the scan's codes (every contact code the input can meet is
    one of them)."""
    return DomainErrors(
        [DomainError(CardScanErrorCode(str(e.code)), e.message, e.field) for e in errors_of(exc)]
    )


async def confirm_card_scan(
    actor: Actor, scan_id: UUID, corrections: dict[str, Any]
) -> tuple[CardScan, contacts.Contact]:
    """Create the contact from the scan's draft with `corrections` (contact fields, as
    `createContact` takes them, plus `website`) over it, and mark the scan confirmed."""
    scan = await get_card_scan(actor, scan_id)
    claimed = scan.status == CardScanStatus.DRAFT and await scoped(
        CardScan, actor, Access.WRITE
    ).filter(id=scan.id, status=CardScanStatus.DRAFT).update(
        status=CardScanStatus.CONFIRMED, confirmed_at=datetime.now(UTC)
    )
    if not claimed:
        await scan.refresh_from_db(fields=["status"])
        if scan.status != CardScanStatus.DRAFT:
            raise DomainError(
                CardScanErrorCode.ALREADY_CONFIRMED, "This card is already a contact.", "id"
            )
        raise DomainError(CardScanErrorCode.FORBIDDEN, "You may not confirm this card.", "id")
    try:
        contact = await contacts.create_contact(actor, _contact_data(scan, corrections))
    except (DomainError, DomainErrors) as exc:
        await CardScan.filter(id=scan.id).update(status=CardScanStatus.DRAFT, confirmed_at=None)
        raise _as_scan_errors(exc) from exc
    except BaseException:
        await CardScan.filter(id=scan.id).update(status=CardScanStatus.DRAFT, confirmed_at=None)
        raise
    async with in_transaction() as conn:
        before = snapshot(scan)
        await CardScan.filter(id=scan.id).using_db(conn).update(contact_id=contact.id)
        scan = await CardScan.filter(id=scan.id).using_db(conn).get()
        await record_updated(actor, AGGREGATE, str(scan.id), before, snapshot(scan), conn)
    return scan, contact


async def discard_card_scan(actor: Actor, scan_id: UUID) -> CardScan:
    """Soft delete a draft and its photo (a card read badly, or scanned twice): no query
    finds them again, and the photo's bytes go with the documents' purge."""
    async with in_transaction() as conn:
        scan = await locked(CardScan, actor, scan_id, conn, CardScanErrorCode, "card scan")
        if scan.status != CardScanStatus.DRAFT:
            raise DomainError(
                CardScanErrorCode.ALREADY_CONFIRMED,
                "This card is a contact already: delete the contact instead.",
                "id",
            )
        await soft_delete(actor, scan, AGGREGATE, snapshot, conn)
        await (
            Document.filter(
                agency_id=actor.agency_id,
                record_type=AGGREGATE,
                record_id=scan.id,
                deleted_at__isnull=True,
            )
            .using_db(conn)
            .update(deleted_at=scan.deleted_at)
        )
    return scan
