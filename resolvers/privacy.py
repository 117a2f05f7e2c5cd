"""Privacy request resolvers: thin calls into `domain.contact_erasure`."""

from __future__ import annotations

from uuid import UUID

from strawberry import relay

from domain.contact_erasure import erase_contact as erase
from domain.errors import DomainError
from domain.personal_data import PersonalDataErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, attempt
from resolvers.inputs import node_uuid


async def erase_contact(context: RequestContext, global_id: relay.GlobalID) -> Outcome[UUID]:
    actor = actor_of(context)

    async def work() -> UUID:
        contact_id = node_uuid(global_id, "Contact", PersonalDataErrorCode)
        if context.storage is None:
            raise DomainError(
                PersonalDataErrorCode.STORAGE_UNAVAILABLE,
                "This server has no document storage; erase through one that has.",
            )
        return (await erase(actor, context.storage, contact_id)).id

    return await attempt(PersonalDataErrorCode, work)
