"""Note service: free text on a contact, a customer, a lead or a deal, read and changed under
the record's row scope. Every write runs in one transaction with its audit row and domain event."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.notes import Note as Note
from domain.actors import Actor
from domain.attachments import check_attached_readable, lock_record
from domain.audit import record_audit
from domain.errors import DomainError, input_errors
from domain.events import append_event
from domain.field_types import input_codes
from domain.policies import scope
from domain.record_changes import record_created, record_deleted
from domain.roles import Access, Resource, RowScope

AGGREGATE = "note"
MAX_BODY_LENGTH = 10_000


class NoteErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID = "INVALID"
    FORBIDDEN = "FORBIDDEN"


_PYDANTIC_CODES = input_codes(NoteErrorCode)


class NoteText(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_BODY_LENGTH)
    ]


def _body(body: str) -> str:
    try:
        return NoteText.model_validate({"body": body}).body
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, NoteErrorCode.INVALID) from exc


def snapshot(note: Note) -> dict[str, Any]:
    return {
        "id": str(note.id),
        "record_type": note.record_type,
        "record_id": str(note.record_id),
        "body": note.body,
        "author": note.author,
    }


def _not_found(note_id: UUID) -> DomainError:
    return DomainError(NoteErrorCode.NOT_FOUND, f"No note with id {note_id}.", "id")


async def add_note(actor: Actor, record_type: str, record_id: UUID, body: str) -> Note:
    """A note on a record the actor may change."""
    text = _body(body)
    async with in_transaction() as conn:
        await lock_record(actor, record_type, record_id, conn, NoteErrorCode)
        note = await Note.create(
            agency_id=actor.agency_id,
            record_type=record_type,
            record_id=record_id,
            body=text,
            author=actor.id,
            author_user_id=actor.user_id,
            using_db=conn,
        )
        after = snapshot(note)
        await record_created(actor, AGGREGATE, str(note.id), after, conn)
    return note


async def _locked_note(actor: Actor, note_id: UUID, conn: BaseDBAsyncClient) -> Note:
    """The note for changing: its record locked, the actor its author or an agency-wide writer.

    A note on a record the actor cannot see is NOT_FOUND; one it sees but may not change is
    FORBIDDEN.
    """
    found = (
        await Note.filter(agency_id=actor.agency_id, deleted_at__isnull=True)
        .using_db(conn)
        .get_or_none(id=note_id)
    )
    if found is None:
        raise _not_found(note_id)
    await check_attached_readable(actor, found.record_type, found.record_id, _not_found(note_id))
    await lock_record(actor, found.record_type, found.record_id, conn, NoteErrorCode, "id")
    note: Note = await Note.filter(id=note_id).using_db(conn).select_for_update().get()
    agency_wide = scope(actor, Resource.SALES_RECORDS, Access.WRITE) is RowScope.AGENCY
    if note.author != actor.id and not agency_wide:
        raise DomainError(NoteErrorCode.FORBIDDEN, "Only its author may change this note.", "id")
    return note


async def update_note(actor: Actor, note_id: UUID, body: str) -> Note:
    text = _body(body)
    async with in_transaction() as conn:
        note = await _locked_note(actor, note_id, conn)
        if note.body != text:
            before = {"body": note.body}
            note.body = text
            await note.save(using_db=conn, update_fields=["body", "updated_at"])
            after = {"body": text}
            await record_audit(actor, AGGREGATE, str(note.id), "update", before, after, conn)
            await append_event(
                actor, "note.updated", AGGREGATE, str(note.id), {"changes": {"body": text}}, conn
            )
    return note


async def delete_note(actor: Actor, note_id: UUID) -> Note:
    """Soft delete: kept for audit, gone from the timeline."""
    async with in_transaction() as conn:
        note = await _locked_note(actor, note_id, conn)
        note.deleted_at = datetime.now(UTC)
        await note.save(using_db=conn, update_fields=["deleted_at", "updated_at"])
        await record_deleted(actor, AGGREGATE, str(note.id), snapshot(note), conn)
    return note
