"""Note types, inputs and payloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.notes import Note as NoteRecord
from domain.notes import NoteErrorCode
from resolvers import notes as resolve
from resolvers import related
from resolvers.errors import Outcome
from resolvers.inputs import ATTACHABLE_TYPES
from schema.enum_values import error_code_enum
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
    updated_at,
)
from schema.users import UserSummary

error_code_enum(NoteErrorCode, "NoteErrorCode", "notes")

# Documents may also be on the agency (its logo), on a user (their picture) and on a card
# scan (the card's photo).
_TYPE_OF_RECORD = {
    **{record: type_name for type_name, record in ATTACHABLE_TYPES.items()},
    "agency": "Agency",
    "user": "User",
    "card_scan": "CardScan",
}


def record_global_id(record_type: str, record_id: Any) -> relay.GlobalID:
    """The global id of the record something is attached to."""
    return relay.GlobalID(_TYPE_OF_RECORD[record_type], str(record_id))


@strawberry.type(description="A note on a contact, a customer, a lead or a deal.")
class Note(relay.Node):
    id: relay.NodeID[str] = node_id()
    body: str = strawberry.field(description="The note's text.")
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, NoteRecord))

    @strawberry.field(description="The Contact, Customer, Lead or Deal the note is on.")
    def record_id(self, root: strawberry.Parent[NoteRecord]) -> relay.GlobalID:
        return record_global_id(root.record_type, root.record_id)

    @strawberry.field(description="Who wrote it (null for an API key, or a user you cannot see).")
    async def author(self, info: Info, root: strawberry.Parent[NoteRecord]) -> UserSummary | None:
        return await related.colleague(info.context, root.author_user_id)  # type: ignore[return-value]


@strawberry.type(description="A problem with the input; nothing was changed.")
class NoteError:
    field: str | None = error_field()
    code: NoteErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class NotePayload:
    note: Note | None = payload_record("note")
    errors: list[NoteError] = payload_errors()


def _payload(outcome: Outcome[NoteRecord]) -> NotePayload:
    return NotePayload(note=outcome.value, errors=errors_as(NoteError, outcome.errors))  # type: ignore[arg-type]


@strawberry.input(description="A note for a record's timeline.")
class AddNoteInput:
    record_id: relay.GlobalID = strawberry.field(
        description="A Contact, Customer, Lead or Deal id."
    )
    body: str = strawberry.field(description="1 to 10,000 characters.")


@strawberry.input(description="New text for a note.")
class UpdateNoteInput:
    id: relay.GlobalID = node_id()
    body: str = strawberry.field(description="1 to 10,000 characters.")


@strawberry.input(description="The note to delete (soft).")
class DeleteNoteInput:
    id: relay.GlobalID = node_id()


@strawberry.type
class NoteMutation:
    @strawberry.mutation(
        description="Write a note on a contact, customer, lead or deal you may change (up to "
        "10,000 characters)."
    )
    async def add_note(
        self, info: Info, input: Annotated[AddNoteInput, MUTATION_INPUT]
    ) -> NotePayload:
        return _payload(await resolve.add_note(info.context, input.record_id, input.body))

    @strawberry.mutation(description="Change a note's text: its author, or an agency-wide editor.")
    async def update_note(
        self, info: Info, input: Annotated[UpdateNoteInput, MUTATION_INPUT]
    ) -> NotePayload:
        return _payload(await resolve.update_note(info.context, input.id, input.body))

    @strawberry.mutation(description="Soft delete: the note leaves the timeline.")
    async def delete_note(
        self, info: Info, input: Annotated[DeleteNoteInput, MUTATION_INPUT]
    ) -> NotePayload:
        return _payload(await resolve.delete_note(info.context, input.id))
