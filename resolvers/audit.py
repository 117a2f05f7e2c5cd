"""Audit log resolvers (read-only: the API has no way to change the log)."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain.audit import list_audit_entries
from resolvers.context import RequestContext, actor_of
from resolvers.errors import answer
from resolvers.inputs import given
from resolvers.pagination import connection


async def audit_entries(
    context: RequestContext, first: int, after: str | None, where: Any
) -> relay.Connection[Any]:
    actor = actor_of(context)

    async def load() -> Any:
        return await list_audit_entries(actor, first, after, given(where) if where else None)

    return connection(await answer(load()))
