"""API key resolvers (admins only; the domain checks)."""

from __future__ import annotations

from datetime import datetime

from strawberry import relay

from domain import api_keys
from domain.actors import ApiScope
from domain.api_keys import ApiKey, ApiKeyErrorCode, NewApiKey
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import node_uuid


async def list_api_keys(context: RequestContext) -> list[ApiKey]:
    return await answer(api_keys.list_api_keys(actor_of(context)))


async def create_api_key(
    context: RequestContext, name: str, scopes: list[str], expires_at: datetime | None
) -> Outcome[NewApiKey]:
    actor = actor_of(context)
    wanted = [ApiScope(s) for s in scopes]
    return await attempt(
        ApiKeyErrorCode, lambda: api_keys.create_api_key(actor, name, wanted, expires_at)
    )


async def revoke_api_key(context: RequestContext, global_id: relay.GlobalID) -> Outcome[ApiKey]:
    actor = actor_of(context)

    async def revoke() -> ApiKey:
        return await api_keys.revoke_api_key(actor, node_uuid(global_id, "ApiKey", ApiKeyErrorCode))

    return await attempt(ApiKeyErrorCode, revoke)
