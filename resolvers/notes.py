"""Note resolvers: thin calls into domain.notes."""

from __future__ import annotations

from uuid import UUID

from strawberry import relay

from domain import notes
from domain.notes import Note, NoteErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, attempt
from resolvers.inputs import attachable_record, node_uuid

TYPE_NAME = "Note"


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, NoteErrorCode)


async def add_note(context: RequestContext, record: relay.GlobalID, body: str) -> Outcome[Note]:
    actor = actor_of(context)

    async def add() -> Note:
        record_type, record_id = attachable_record(record, NoteErrorCode)
        return await notes.add_note(actor, record_type, record_id, body)

    return await attempt(NoteErrorCode, add)


async def update_note(
    context: RequestContext, global_id: relay.GlobalID, body: str
) -> Outcome[Note]:
    actor = actor_of(context)
    return await attempt(NoteErrorCode, lambda: notes.update_note(actor, _id(global_id), body))


async def delete_note(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Note]:
    actor = actor_of(context)
    return await attempt(NoteErrorCode, lambda: notes.delete_note(actor, _id(global_id)))
