"""Note types, inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.notes import Note as NoteRecord
from domain.notes import NoteErrorCode
from resolvers import notes as resolve
from resolvers import related
from resolvers.errors import Outcome
from resolvers.inputs import ATTACHABLE_TYPES
from schema.payloads import errors_as
from schema.users import UserSummary

strawberry.enum(NoteErrorCode, name="NoteErrorCode")

# Documents may also be on the agency (its logo) and on a user (their picture).
_TYPE_OF_RECORD = {
    **{record: type_name for type_name, record in ATTACHABLE_TYPES.items()},
    "agency": "Agency",
    "user": "User",
}


def record_global_id(record_type: str, record_id: Any) -> relay.GlobalID:
    """The global id of the record something is attached to."""
    return relay.GlobalID(_TYPE_OF_RECORD[record_type], str(record_id))


@strawberry.type(description="A note on a contact, a customer, a lead or a deal.")
class Note(relay.Node):
    id: relay.NodeID[str]
    body: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, NoteRecord))

    @strawberry.field(description="The Contact, Customer, Lead or Deal the note is on.")
    def record_id(self, root: strawberry.Parent[NoteRecord]) -> relay.GlobalID:
        return record_global_id(root.record_type, root.record_id)

    @strawberry.field(description="Who wrote it (null for an API key, or a user you cannot see).")
    async def author(self, info: Info, root: strawberry.Parent[NoteRecord]) -> UserSummary | None:
        return await related.colleague(info.context, root.author_user_id)  # type: ignore[return-value]


@strawberry.type
class NoteError:
    field: str | None
    code: NoteErrorCode
    message: str


@strawberry.type
class NotePayload:
    note: Note | None
    errors: list[NoteError]


def _payload(outcome: Outcome[NoteRecord]) -> NotePayload:
    return NotePayload(note=outcome.value, errors=errors_as(NoteError, outcome.errors))  # type: ignore[arg-type]


@strawberry.input
class AddNoteInput:
    record_id: relay.GlobalID = strawberry.field(
        description="A Contact, Customer, Lead or Deal id."
    )
    body: str


@strawberry.input
class UpdateNoteInput:
    id: relay.GlobalID
    body: str


@strawberry.input
class DeleteNoteInput:
    id: relay.GlobalID


@strawberry.type
class NoteMutation:
    @strawberry.mutation(
        description="Write a note on a contact, customer, lead or deal you may change (up to "
        "10,000 characters)."
    )
    async def add_note(self, info: Info, input: AddNoteInput) -> NotePayload:
        return _payload(await resolve.add_note(info.context, input.record_id, input.body))

    @strawberry.mutation(description="Change a note's text: its author, or an agency-wide editor.")
    async def update_note(self, info: Info, input: UpdateNoteInput) -> NotePayload:
        return _payload(await resolve.update_note(info.context, input.id, input.body))

    @strawberry.mutation(description="Soft delete: the note leaves the timeline.")
    async def delete_note(self, info: Info, input: DeleteNoteInput) -> NotePayload:
        return _payload(await resolve.delete_note(info.context, input.id))
