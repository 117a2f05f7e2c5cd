"""Message preference resolvers: read and set a record's consent through
`domain.message_preferences`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import message_preferences as preferences
from domain.message_preferences import ConsentChange, PreferenceErrorCode, Preferences
from resolvers.context import RequestContext, actor_of, loaders_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given, recipient_record


async def preferences_of(context: RequestContext, record_id: relay.GlobalID) -> Preferences:
    actor = actor_of(context)

    async def read() -> Preferences:
        record_type, record_uuid = recipient_record(record_id, PreferenceErrorCode)
        return await preferences.get_preferences(actor, record_type, record_uuid)

    return await answer(read())


async def history(context: RequestContext, root: Preferences) -> list[ConsentChange]:
    actor = actor_of(context)
    return await answer(preferences.consent_history(actor, root.record_type, UUID(root.record_id)))


async def update(context: RequestContext, data: Any) -> Outcome[Preferences]:
    actor = actor_of(context)
    fields = given(data)

    async def updated() -> Preferences:
        record_type, record_uuid = recipient_record(fields.pop("record_id"), PreferenceErrorCode)
        return await preferences.update_preferences(actor, record_type, record_uuid, fields)

    return await attempt(PreferenceErrorCode, updated)


async def of_record(context: RequestContext, record_type: str, record_id: UUID) -> Preferences:
    """A shown record's preferences, batched per request (the record is already visible)."""
    loaders = loaders_of(context)
    by_type = {"contact": loaders.contact_preferences, "customer": loaders.customer_preferences}
    preferences: Preferences = await by_type[record_type].load(record_id)
    return preferences
