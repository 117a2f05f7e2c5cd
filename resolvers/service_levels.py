"""Business calendar and SLA policy resolvers: thin calls into domain.service_levels."""

from __future__ import annotations

from typing import Any

from db.service_levels import BusinessCalendarRow, SlaPolicy
from domain import service_levels
from domain.service_levels import ServiceLevelErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given


async def business_calendar(context: RequestContext) -> BusinessCalendarRow:
    return await answer(service_levels.get_business_calendar(actor_of(context)))


async def sla_policy(context: RequestContext, version: int | None) -> SlaPolicy | None:
    return await answer(service_levels.get_sla_policy(actor_of(context), version))


async def set_business_calendar(context: RequestContext, data: Any) -> Outcome[BusinessCalendarRow]:
    actor = actor_of(context)
    return await attempt(
        ServiceLevelErrorCode, lambda: service_levels.set_business_calendar(actor, given(data))
    )


async def publish_sla_policy(context: RequestContext, data: Any) -> Outcome[SlaPolicy]:
    actor = actor_of(context)
    return await attempt(
        ServiceLevelErrorCode, lambda: service_levels.publish_sla_policy(actor, given(data))
    )
