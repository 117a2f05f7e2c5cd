"""Erasing a contact on request (GDPR article 17): what the agency held about the person is
removed or replaced with `[erased]` everywhere it lives, and only the fact remains.

Two passes. The first knows where the person's data is by design and empties it whole: the
contact row, its custom values, notes, documents (and their files), the visiting cards it
was scanned from (their photos and the text read), consent history, the
messages sent to it (and the delivery log's copy), the mail it sent (and the raw message in
storage), its own events' payloads and audit values; its flows are cancelled by the
`contact.erased` event, as a deletion cancels them.

The second looks for the person's values in every other table of the agency, because text
travels: a lead titled after the person, an event payload, a notification, a webhook's
outbox row, a calling task's notes. Email addresses and phone numbers identify the person
anywhere and are replaced wherever they appear. The full name is replaced only in rows that
belong to the person (their leads, deals, tasks, meetings, and those rows' events and audit
entries), so a namesake elsewhere keeps their name. Other contacts' rows are not rewritten:
a duplicate of the person is a contact of its own, erased by its own request.

Files are deleted before the rows are rewritten: a failure in between leaves rows pointing at
nothing, which a second request finishes, never a file with no row left to find it by.
What stays: the contact row (so links from deals and the audit log still resolve), its
status and dates, and one audit entry and one `contact.erased` event saying who erased it
and when. Temporal keeps the ids its workflows were given, for its retention period.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise import connections, fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.audit import AuditEntry
from db.card_scans import CardScan
from db.connection import MODEL_MODULES
from db.contacts import Contact
from db.custom_fields import CustomFieldValue
from db.documents import Document
from db.emails import SentEmail
from db.event_signals import is_postgres
from db.events import Event
from db.flow_runs import FlowRun, FlowStepEffect
from db.message_preferences import ConsentChange, MessagePreference, UndeliverableAddress
from db.notes import Note
from db.portal import PortalSignIn
from db.tickets import TicketPortalReply
from domain import tags
from domain.actors import Actor
from domain.audit import record_audit
from domain.custom_field_sort_keys import refresh_sort_keys
from domain.events import append_event
from domain.personal_data import (
    AGGREGATE,
    CARD_SCAN,
    card_scans_of,
    documents_of,
    held_contact,
    mail_from,
    messages_to,
    records_about,
)
from domain.policies import require
from domain.roles import Access, Resource
from domain.storage import Storage

ERASED = "[erased]"
ERASED_EVENT = "contact.erased"

# The agency's set-up, its staff and their credentials: not what it holds about a person, and
# never rewritten by an erasure. `contact` is left out too: other contacts are other people.
NOT_SCANNED = frozenset(
    {
        "agency",
        "api_key",
        "contact",
        "crm_user",
        "custom_field",
        "department",
        "designation",
        # Keys derived from each contact's own fields, rewritten by its save (the erased
        # contact's by its anonymising save); a duplicate's keys are that other person's.
        "duplicate_key",
        "email_account",
        "flow",
        "flow_version",
        "login_failure",
        "message_template",
        "message_template_version",
        "org_unit",
        "pipeline",
        "pipeline_stage",
        "rate_counter",
        "refresh_token",
        "session",
        "tag",
        "webhook_endpoint",
    }
)
_TEXT_FIELDS = (fields.CharField, fields.TextField, fields.JSONField)
# Columns a scan never rewrites: keys, kinds and ids that the rows are found and joined by.
_KEPT_COLUMNS = frozenset(
    {
        "id",
        "agency_id",
        "type",
        "aggregate_type",
        "aggregate_id",
        "entity_type",
        "entity_id",
        "record_type",
        "record_id",
        "actor_id",
        "request_id",
        "status",
        "kind",
        "workflow_id",
        "idempotency_key",
        "search_text",
    }
)


def personal_values(contact: Contact) -> tuple[list[str], list[str]]:
    """The person's identifiers (addresses, phones) and their full name, when it has two parts.

    A first name alone says too little to be searched for in other people's rows.
    """
    identifiers = [v for v in [*contact.emails, *contact.phones] if len(v.strip()) >= 5]
    names = [contact.full_name] if contact.first_name and contact.last_name else []
    return identifiers, names


def scrub(value: Any, values: Iterable[str]) -> Any:
    """The value with every occurrence of the values replaced, inside JSON structures too."""
    patterns = [re.compile(re.escape(v), re.IGNORECASE) for v in values if v]
    return _scrub(value, patterns)


def _scrub(value: Any, patterns: list[re.Pattern[str]]) -> Any:
    if isinstance(value, str):
        for pattern in patterns:
            value = pattern.sub(ERASED, value)
        return value
    if isinstance(value, list):
        return [_scrub(v, patterns) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, patterns) for k, v in value.items()}
    return value


async def _delete_files(storage: Storage, contact: Contact, conn: BaseDBAsyncClient) -> None:
    keys = [d.storage_key for d in await documents_of(contact, conn)]
    keys += [m.storage_key for m in await mail_from(contact, conn) if m.storage_key]
    for key in keys:
        await storage.delete(key)


async def erase_contact(actor: Actor, storage: Storage, contact_id: UUID) -> Contact:
    """Erase what is held about a contact; the audit log keeps who did it and when."""
    require(actor, Resource.PERSONAL_DATA, Access.WRITE)
    outside = connections.get("default")
    await _delete_files(storage, await held_contact(actor, contact_id, outside), outside)
    async with in_transaction() as conn:
        contact = await held_contact(actor, contact_id, conn, lock=True)
        identifiers, names = personal_values(contact)
        await _delete_files(storage, contact, conn)
        owned = await records_about(contact, conn)
        await _empty_what_is_theirs(actor, contact, conn)
        await _scan_agency_tables(contact.agency_id, identifiers, names, owned, conn)
        await _anonymise(actor, contact, conn)
        await refresh_sort_keys(contact.agency_id, AGGREGATE, [contact.id], conn)  # values gone
        await record_audit(actor, AGGREGATE, str(contact.id), "erase", {}, {}, conn)
        await append_event(actor, ERASED_EVENT, AGGREGATE, str(contact.id), {}, conn)
    return contact


async def _empty_what_is_theirs(actor: Actor, contact: Contact, conn: BaseDBAsyncClient) -> None:
    agency_id, record_id = contact.agency_id, str(contact.id)
    mine = {"agency_id": agency_id, "record_type": AGGREGATE, "record_id": contact.id}
    as_text = {**mine, "record_id": record_id}
    await CustomFieldValue.filter(**mine).using_db(conn).delete()
    await Note.filter(**mine).using_db(conn).delete()
    await Document.filter(**mine).using_db(conn).delete()
    # The cards it was scanned from: their photos (bytes deleted with the files) and text.
    scans = await card_scans_of(contact, conn)
    await Document.filter(record_type=CARD_SCAN, record_id__in=scans).using_db(conn).delete()
    await CardScan.filter(id__in=scans).using_db(conn).delete()
    await MessagePreference.filter(**as_text).using_db(conn).delete()
    await ConsentChange.filter(**as_text).using_db(conn).delete()
    emails = [e.lower() for e in contact.emails]
    await (
        UndeliverableAddress.filter(agency_id=agency_id, address__in=emails).using_db(conn).delete()
    )
    await tags.untag_record(actor, AGGREGATE, contact.id, conn)
    # What they wrote in the customer portal, and their portal sign-ins (sessions end).
    await (
        TicketPortalReply.filter(agency_id=agency_id, contact_id=contact.id)
        .using_db(conn)
        .update(body=ERASED)
    )
    await PortalSignIn.filter(agency_id=agency_id, contact_id=contact.id).using_db(conn).delete()
    messages = await messages_to(contact, conn)
    for message in messages:
        message.update_from_dict(
            {"recipients": [], "subject": ERASED, "text_body": ERASED, "html_body": ""}
        )
        message.calendar = ""
        await message.save(using_db=conn)
    keys = [f"message:{m.id}" for m in messages]
    await (
        SentEmail.filter(idempotency_key__in=keys)
        .using_db(conn)
        .update(recipients=[], subject=ERASED)
    )
    for mail in await mail_from(contact, conn):
        mail.update_from_dict(
            {
                "envelope_from": "",
                "recipients": [],
                "from_address": "",
                "from_name": "",
                "subject": ERASED,
                "storage_key": "",
                "sha256": "",
                "authentication_results": "",
                "text_body": "",
                "reply_text": "",
            }
        )
        await mail.save(using_db=conn)
    await (
        Event.filter(agency_id=agency_id, aggregate_type=AGGREGATE, aggregate_id=record_id)
        .using_db(conn)
        .update(payload={})
    )
    await (
        AuditEntry.filter(agency_id=agency_id, entity_type=AGGREGATE, entity_id=record_id)
        .using_db(conn)
        .update(before={}, after={})
    )
    runs = await FlowRun.filter(**as_text).using_db(conn)
    await (
        FlowStepEffect.filter(workflow_id__in=[r.workflow_id for r in runs])
        .using_db(conn)
        .update(result={})
    )


async def _anonymise(actor: Actor, contact: Contact, conn: BaseDBAsyncClient) -> None:
    now = datetime.now(UTC)
    contact.update_from_dict(
        {
            "first_name": ERASED,
            "last_name": "",
            "emails": [],
            "phones": [],
            "company_name": "",
            "job_title": "",
            "street": "",
            "city": "",
            "region": "",
            "postal_code": "",
            "country": "",
            "latitude": None,
            "longitude": None,
            "tags": [],
            "notes": "",
            "erased_at": now,
            "deleted_at": contact.deleted_at or now,
        }
    )
    await contact.save(using_db=conn)


def _scanned_models() -> list[type[Model]]:
    """Every table of the CRM that holds an agency's rows, but the ones never scanned."""
    found = []
    for module in map(importlib.import_module, MODEL_MODULES):
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, Model)):
                continue
            meta = model._meta
            if meta.abstract or model.__module__ != module.__name__:
                continue
            if meta.db_table in NOT_SCANNED or "agency_id" not in meta.fields_map:
                continue
            found.append(model)
    return sorted(found, key=lambda m: m._meta.db_table)


def _text_columns(model: type[Model]) -> dict[str, str]:
    """Field name -> column of the fields a person's values can be written in."""
    return {
        name: field.source_field or name
        for name, field in model._meta.fields_map.items()
        if isinstance(field, _TEXT_FIELDS) and name not in _KEPT_COLUMNS
    }


def _search_forms(values: Iterable[str]) -> list[str]:
    """LIKE patterns for each value as written and as JSON escapes it (SQLite's JSON text)."""
    forms: set[str] = set()
    for value in values:
        lowered = value.lower()
        forms.add(lowered)
        forms.add(json.dumps(lowered)[1:-1])
    return sorted(f"%{form}%" for form in forms)


def _belongs(row: Model, owned: set[str]) -> bool:
    for attribute in ("id", "record_id", "aggregate_id", "entity_id", "contact_id"):
        value = getattr(row, attribute, None)
        if value is not None and str(value) in owned:
            return True
    return False


async def _scan_agency_tables(
    agency_id: UUID,
    identifiers: list[str],
    names: list[str],
    owned: set[str],
    conn: BaseDBAsyncClient,
) -> None:
    patterns = _search_forms([*identifiers, *names])
    if not patterns:
        return
    for model in _scanned_models():
        columns = _text_columns(model)
        if not columns:
            continue
        for row in await _rows_mentioning(model, columns, agency_id, patterns, conn):
            values = [*identifiers, *(names if _belongs(row, owned) else [])]
            changed = False
            for name in columns:
                before = getattr(row, name)
                after = scrub(before, values)
                if after != before:
                    setattr(row, name, after)
                    changed = True
            if changed:
                await row.save(using_db=conn)


async def _rows_mentioning(
    model: type[Model],
    columns: dict[str, str],
    agency_id: UUID,
    patterns: list[str],
    conn: BaseDBAsyncClient,
) -> list[Model]:
    meta = model._meta
    postgres = is_postgres(conn)
    values: list[Any] = [agency_id if postgres else str(agency_id)]
    tests = []
    for column in columns.values():
        for pattern in patterns:
            values.append(pattern)
            mark = f"${len(values)}" if postgres else "?"
            tests.append(f'lower(CAST("{column}" AS TEXT)) LIKE {mark}')
    first = "$1" if postgres else "?"
    pk = meta.pk.source_field or meta.pk_attr
    rows = await conn.execute_query_dict(
        f'SELECT "{pk}" AS pk FROM "{meta.db_table}" WHERE agency_id = {first} '
        f"AND ({' OR '.join(tests)})",
        values,
    )
    if not rows:
        return []
    query = model.filter(pk__in=[r["pk"] for r in rows]).using_db(conn).select_for_update()
    return list(await query)
