"""Dashboard resolvers: thin calls into domain.dashboards."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from strawberry import relay

from domain import dashboards
from domain.dashboards import Bucket, DashboardErrorCode, DashboardFilter
from domain.errors import DomainError
from resolvers.context import RequestContext, actor_of
from resolvers.errors import answer
from resolvers.inputs import node_uuid


def _id(global_id: relay.GlobalID | None, type_name: str, field: str) -> UUID | None:
    if global_id is None:
        return None
    try:
        return node_uuid(global_id, type_name, DashboardErrorCode)
    except DomainError as exc:
        raise DomainError(exc.code, f"No such {type_name}.", field) from exc


def dashboard_filter(data: Any) -> DashboardFilter:
    """The schema's DashboardFilterInput as the domain's filter."""
    start: date = data.start
    end: date = data.end
    return DashboardFilter(
        start=start,
        end=end,
        bucket=Bucket(data.bucket),
        team_id=_id(data.team_id, "OrgUnit", "team_id"),
        owner_id=_id(data.owner_id, "User", "owner_id"),
        currency=data.currency,
    )


async def sales_dashboard(context: RequestContext, data: Any) -> dashboards.SalesDashboard:
    actor = actor_of(context)

    async def work() -> dashboards.SalesDashboard:
        return await dashboards.sales_dashboard(actor, dashboard_filter(data))

    return await answer(work())


async def sales_head_dashboard(
    context: RequestContext, data: Any, stage_history: bool = True
) -> dashboards.SalesHeadDashboard:
    actor = actor_of(context)

    async def work() -> dashboards.SalesHeadDashboard:
        return await dashboards.sales_head_dashboard(
            actor, dashboard_filter(data), stage_history=stage_history
        )

    return await answer(work())


async def support_dashboard(context: RequestContext, data: Any) -> dashboards.SupportDashboard:
    actor = actor_of(context)

    async def work() -> dashboards.SupportDashboard:
        return await dashboards.support_dashboard(actor, dashboard_filter(data))

    return await answer(work())


async def sysadmin_dashboard(context: RequestContext, data: Any) -> dashboards.SysadminDashboard:
    actor = actor_of(context)

    async def work() -> dashboards.SysadminDashboard:
        return await dashboards.sysadmin_dashboard(actor, dashboard_filter(data))

    return await answer(work())
