"""Quota resolvers: thin calls into domain.quotas."""

from __future__ import annotations

from datetime import date
from typing import Any

from strawberry import relay

from db.quotas import Quota
from domain import quotas
from domain.quotas import QuotaErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given, node_uuid, with_node_ids


async def set_quota(context: RequestContext, data: Any) -> Outcome[Quota]:
    actor = actor_of(context)

    async def work() -> Quota:
        fields = with_node_ids(
            given(data), QuotaErrorCode, {"owner_id": "User", "team_id": "OrgUnit"}
        )
        return await quotas.set_quota(actor, fields)

    return await attempt(QuotaErrorCode, work)


async def delete_quota(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Quota]:
    actor = actor_of(context)
    return await attempt(
        QuotaErrorCode,
        lambda: quotas.delete_quota(actor, node_uuid(global_id, "Quota", QuotaErrorCode)),
    )


async def list_quotas(context: RequestContext, start: date, end: date) -> list[quotas.Attainment]:
    return await answer(quotas.quotas(actor_of(context), start, end))
