"""A privacy export (GDPR articles 15 and 20): everything held about a contact, as one zip.

The archive holds JSON files a person can read and a program can load (the contact with its
custom values, notes, the records made about them, the messages sent to them, consent and
its history, the timeline's events, the flow runs), the documents' files, and the mail they
sent as the raw `.eml` files received. It is built in a spooled temporary file (in memory up
to `SPOOL_BYTES`, then on disk) because documents may be large, and streamed from there.
Only admins export; every export is audited, without its content.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from db.contacts import Contact
from db.custom_fields import CustomField, CustomFieldValue
from db.customers import Customer, CustomerContact
from db.events import Event
from db.flow_runs import FlowRun
from db.message_preferences import ConsentChange, MessagePreference
from db.notes import Note
from domain.actors import Actor
from domain.audit import record_audit
from domain.documents import safe_file_name
from domain.personal_data import (
    AGGREGATE,
    RECORDS_ABOUT_A_CONTACT,
    documents_of,
    held_contact,
    mail_from,
    messages_to,
    records_about,
)
from domain.policies import require
from domain.roles import Access, Resource
from domain.storage import CHUNK_BYTES, MissingObject, Storage

SPOOL_BYTES = 16 * 1024 * 1024
# Columns that are the CRM's machinery, not information about the person.
_LEFT_OUT = frozenset({"search_text", "storage_key", "agency_id", "idempotency_key"})
README = """\
Everything {agency} holds about {name}, exported on {date}.

contact.json      the contact, its custom fields and tags
notes.json        notes written on the contact
documents.json    documents attached to the contact (files in documents/)
records.json      customers it belongs to; leads, deals, calling tasks, meetings, tickets about it
messages.json     messages sent to it
received.json     mail received from it (the messages as received in received/)
consent.json      what it agreed to receive, and every change to that
timeline.json     the events of the contact and of the records about it
flow_runs.json    automated flows that ran for it
"""


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


def row(model: Model) -> dict[str, Any]:
    """A row's stored fields as JSON values, without the CRM's machinery."""
    return {
        name: _json_value(getattr(model, name))
        for name in model._meta.fields_db_projection
        if name not in _LEFT_OUT
    }


def _write_json(archive: zipfile.ZipFile, name: str, content: Any) -> None:
    archive.writestr(name, json.dumps(content, indent=2, ensure_ascii=False, default=str))


async def _copy(storage: Storage, key: str, archive: zipfile.ZipFile, name: str) -> bool:
    """Copy a stored file into the archive; False if the storage no longer has it."""
    try:
        chunks = storage.open(key)
        with archive.open(name, "w", force_zip64=True) as target:
            async for chunk in chunks:
                target.write(chunk)
    except MissingObject:
        return False
    return True


async def _custom_values(contact: Contact, conn: BaseDBAsyncClient) -> list[dict[str, Any]]:
    values = await CustomFieldValue.filter(
        agency_id=contact.agency_id, record_type=AGGREGATE, record_id=contact.id
    ).using_db(conn)
    fields = {
        f.id: f
        for f in await CustomField.filter(id__in=[v.field_id for v in values]).using_db(conn)
    }
    found = []
    for value in values:
        field = fields.get(value.field_id)
        entry = {"field": field.key if field else None, "label": field.label if field else None}
        found.append({**entry, **row(value)})
    return found


async def _records(contact: Contact, conn: BaseDBAsyncClient) -> dict[str, Any]:
    links = await CustomerContact.filter(contact_id=contact.id).using_db(conn)
    customers = {
        c.id: c
        for c in await Customer.filter(
            agency_id=contact.agency_id, id__in=[link.customer_id for link in links]
        ).using_db(conn)
    }
    found: dict[str, Any] = {
        "customers": [
            {"customer": row(customers[link.customer_id]), "role": link.role}
            for link in links
            if link.customer_id in customers
        ]
    }
    for model in RECORDS_ABOUT_A_CONTACT:
        rows = await model.filter(agency_id=contact.agency_id, contact_id=contact.id).using_db(conn)
        found[model._meta.db_table] = [row(r) for r in rows]
    return found


async def _write_archive(
    contact: Contact, agency_name: str, storage: Storage, target: IO[bytes]
) -> None:
    conn = connections.get("default")
    record_id = str(contact.id)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "README.txt",
            README.format(
                agency=agency_name,
                name=contact.full_name,
                date=datetime.now(UTC).date().isoformat(),
            ),
        )
        _write_json(
            archive,
            "contact.json",
            {"contact": row(contact), "custom_fields": await _custom_values(contact, conn)},
        )
        notes = await Note.filter(
            agency_id=contact.agency_id, record_type=AGGREGATE, record_id=contact.id
        ).order_by("created_at")
        _write_json(archive, "notes.json", [row(n) for n in notes])
        documents = []
        for number, document in enumerate(await documents_of(contact, conn), start=1):
            name = f"documents/{number}-{safe_file_name(document.file_name)}"
            stored = await _copy(storage, document.storage_key, archive, name)
            documents.append({**row(document), "file": name if stored else None})
        _write_json(archive, "documents.json", documents)
        _write_json(archive, "records.json", await _records(contact, conn))
        _write_json(archive, "messages.json", [row(m) for m in await messages_to(contact, conn)])
        received = []
        for number, mail in enumerate(await mail_from(contact, conn), start=1):
            name = f"received/{number}.eml"
            stored = bool(mail.storage_key) and await _copy(
                storage, mail.storage_key, archive, name
            )
            received.append({**row(mail), "file": name if stored else None})
        _write_json(archive, "received.json", received)
        preference = await MessagePreference.get_or_none(
            agency_id=contact.agency_id, record_type=AGGREGATE, record_id=record_id
        )
        history = await ConsentChange.filter(
            agency_id=contact.agency_id, record_type=AGGREGATE, record_id=record_id
        ).order_by("changed_at", "id")
        _write_json(
            archive,
            "consent.json",
            {
                "preferences": row(preference) if preference else None,
                "history": [row(c) for c in history],
            },
        )
        about = await records_about(contact, conn)
        events = await Event.filter(
            agency_id=contact.agency_id, aggregate_id__in=sorted(about)
        ).order_by("id")
        _write_json(archive, "timeline.json", [row(e) for e in events])
        runs = await FlowRun.filter(
            agency_id=contact.agency_id, record_type=AGGREGATE, record_id=record_id
        ).order_by("id")
        _write_json(archive, "flow_runs.json", [row(r) for r in runs])


async def export_contact(
    actor: Actor, storage: Storage, contact_id: UUID, agency_name: str
) -> AsyncIterator[bytes]:
    """The archive's bytes, in chunks; checks and the audit entry happen before the first."""
    require(actor, Resource.PERSONAL_DATA, Access.READ)
    conn = connections.get("default")
    contact = await held_contact(actor, contact_id, conn)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed below)
    try:
        await _write_archive(contact, agency_name, storage, spool)
        await record_audit(actor, AGGREGATE, str(contact.id), "export", {}, {}, conn)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return _chunks(spool)


async def _chunks(spool: IO[bytes]) -> AsyncIterator[bytes]:
    with spool:
        while chunk := spool.read(CHUNK_BYTES):
            yield chunk
