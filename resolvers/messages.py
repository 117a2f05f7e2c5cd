"""Message resolvers: send one, fetch one; thin calls into `domain.messages`."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain import messages
from domain.errors import DomainError
from domain.messages import Message, MessageErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, attempt, found_or_none
from resolvers.inputs import given, recipient_record

TYPE_NAME = "Message"


def _id(global_id: relay.GlobalID) -> int:
    if global_id.type_name == TYPE_NAME and global_id.node_id.isdigit():
        return int(global_id.node_id)
    raise DomainError(MessageErrorCode.NOT_FOUND, f"No message with id {global_id}.", "id")


async def message(context: RequestContext, global_id: relay.GlobalID) -> Message | None:
    actor = actor_of(context)
    return await found_or_none(lambda: messages.get_message(actor, _id(global_id)))


async def send(context: RequestContext, data: Any) -> Outcome[Message]:
    actor = actor_of(context)
    fields = given(data)

    async def sent() -> Message:
        record_type, record_id = recipient_record(fields.pop("record_id"), MessageErrorCode)
        return await messages.send_message(actor, record_type, record_id, fields)

    return await attempt(MessageErrorCode, sent)
