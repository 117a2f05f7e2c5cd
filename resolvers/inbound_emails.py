"""Received email resolvers: fetch one; thin calls into `domain.inbound_emails`."""

from __future__ import annotations

import uuid

from strawberry import relay

from domain import inbound_emails
from domain.errors import DomainError
from domain.inbound_emails import InboundEmail, InboundErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import found_or_none

TYPE_NAME = "ReceivedEmail"


def _id(global_id: relay.GlobalID) -> uuid.UUID:
    try:
        if global_id.type_name == TYPE_NAME:
            return uuid.UUID(global_id.node_id)
    except ValueError:
        pass
    raise DomainError(InboundErrorCode.NOT_FOUND, f"No email with id {global_id}.", "id")


async def received_email(context: RequestContext, global_id: relay.GlobalID) -> InboundEmail | None:
    actor = actor_of(context)
    return await found_or_none(lambda: inbound_emails.get_inbound_email(actor, _id(global_id)))
