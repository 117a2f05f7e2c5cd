"""Dashboard types and queries: each role's figures, each with its time series."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain import dashboards
from domain.dashboards import Bucket
from resolvers import dashboards as resolve
from resolvers.selections import selected_names
from schema.dashboard_figures import (
    CampaignLeadSource,
    CompetitorOutcome,
    EventLag,
    ImportProgress,
    StageConversion,
    StageTime,
)
from schema.enum_values import described_enum
from schema.quotas import QuotaAttainment, attainments

described_enum(
    Bucket,
    "DashboardBucket",
    "How a figure's time series is cut: UTC calendar days, ISO weeks (Monday first) or months.",
    {"DAY": "One point a day.", "WEEK": "One point a week.", "MONTH": "One point a month."},
)


@strawberry.input(description="Which records a dashboard counts: a period, and whose.")
class DashboardFilterInput:
    start: date = strawberry.field(name="from", description="The period's first day (UTC).")
    end: date = strawberry.field(name="to", description="The period's last day, included.")
    bucket: Bucket = strawberry.field(
        default=Bucket.MONTH, description="The time series' bucket (at most 550 in a period)."
    )
    team_id: relay.GlobalID | None = strawberry.field(
        default=None, description="An OrgUnit: only records owned by its members or below."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A User: only the records they own (or are assigned)."
    )
    currency: str | None = strawberry.field(
        default=None, description="Only deals in this currency (amounts are never converted)."
    )


@strawberry.type(description="One bucket of a time series.")
class DashboardPoint:
    start: date = strawberry.field(description="The bucket's first day.")
    value: Decimal = strawberry.field(description="The figure within the bucket.")


@strawberry.type(description="A figure for the period, and its time series (empty buckets: 0).")
class DashboardFigure:
    value: Decimal = strawberry.field(description="The figure over the whole period.")
    series: list[DashboardPoint] = strawberry.field(description="Bucket by bucket, in order.")


def _user_id(value: Any) -> relay.GlobalID | None:
    return relay.GlobalID("User", str(value)) if value else None


@strawberry.type(description="Open deals of one stage (and one owner, where grouped by owner).")
class StageFigure:
    stage_name: str = strawberry.field(description="The stage's name.")
    probability: int = strawberry.field(description="The stage's chance of winning, in percent.")
    deals: int = strawberry.field(description="How many open deals.")
    amount: Decimal = strawberry.field(description="Their summed amount.")
    weighted_amount: Decimal = strawberry.field(description="The amount times the probability.")

    @strawberry.field(description="The Stage's global id.")
    def stage_id(self, root: strawberry.Parent[dashboards.StageFigure]) -> relay.GlobalID:
        return relay.GlobalID("Stage", str(root.stage_id))

    @strawberry.field(description="The owner's User id; null where not grouped by owner.")
    def owner_id(self, root: strawberry.Parent[dashboards.StageFigure]) -> relay.GlobalID | None:
        return _user_id(root.owner_id)


@strawberry.type(description="A sales person's won deals in the period.")
class OwnerRevenue:
    owner_name: str = strawberry.field(description="Their name (empty: unowned deals).")
    won_deals: int = strawberry.field(description="Deals won in the period.")
    won_amount: Decimal = strawberry.field(description="Their summed amount.")
    share: Decimal = strawberry.field(description="Of the won amount shown, 0 to 1.")

    @strawberry.field(description="The owner's User id; null for unowned deals.")
    def owner_id(self, root: strawberry.Parent[dashboards.OwnerRevenue]) -> relay.GlobalID | None:
        return _user_id(root.owner_id)


@strawberry.type(description="Deals closed in the period for one reason.")
class CloseReason:
    status: str = strawberry.field(description="won or lost.")
    reason: str = strawberry.field(description="The reason given when it closed.")
    deals: int = strawberry.field(description="How many deals.")
    amount: Decimal = strawberry.field(description="Their summed amount.")


@strawberry.type(description="Leads of one source: those that came in, and the deals won.")
class LeadSourceFigure:
    source: str = strawberry.field(description="The lead's source (empty: none given).")
    leads: int = strawberry.field(description="Leads created in the period.")
    converted: int = strawberry.field(description="Of those, how many are converted.")
    won_deals: int = strawberry.field(
        description="Deals won in the period from leads of this source (whenever they came)."
    )
    won_amount: Decimal = strawberry.field(description="Their summed amount.")


@strawberry.type(
    description="A sales person's figures: their own, or those the viewer's scope and the "
    "filter cover. Open deals go by their expected close date within the period."
)
class SalesDashboard:
    open_deals: DashboardFigure = strawberry.field(description="Open deals due to close.")
    pipeline_amount: DashboardFigure = strawberry.field(description="Their summed amount.")
    weighted_pipeline: DashboardFigure = strawberry.field(
        description="Their amount weighted by each stage's probability."
    )
    open_deals_by_stage: list[StageFigure] = strawberry.field(description="By stage.")
    calling_tasks_due_today: int = strawberry.field(
        description="Calling tasks still to do that are due today (UTC), whatever the period."
    )
    calling_tasks_overdue: int = strawberry.field(
        description="Calling tasks still to do whose due time has passed, whatever the period."
    )
    calling_tasks_due: DashboardFigure = strawberry.field(
        description="Calling tasks due in the period, whatever their status."
    )
    calls_done: DashboardFigure = strawberry.field(
        description="Calling tasks done, by the day they were done."
    )
    meetings: DashboardFigure = strawberry.field(
        description="Booked and held meetings, by their start."
    )
    new_contacts: DashboardFigure = strawberry.field(description="Contacts created.")
    converted_contacts: DashboardFigure = strawberry.field(
        description="Of the contacts created in each bucket, those converted since."
    )
    contact_conversion_rate: DashboardFigure = strawberry.field(
        description="Converted over created, 0 to 1."
    )
    emails_sent: DashboardFigure = strawberry.field(
        description="Emails sent to the owner's contacts and customers (by them or by a flow; "
        "broadcasts not), by sending time."
    )
    activities: DashboardFigure = strawberry.field(
        description="Calls done, meetings and emails sent, added up."
    )

    @strawberry.field(
        description="The quotas the viewer may read whose period overlaps this one, with "
        "their attainment from the deals won in the quota's own period."
    )
    def quotas(self, root: strawberry.Parent[dashboards.SalesDashboard]) -> list[QuotaAttainment]:
        return attainments(root.quotas)


@strawberry.type(
    description="A sales head's figures over the team (the viewer's row scope). Deals "
    "closed count by the day they closed; the pipeline by its expected close date."
)
class SalesHeadDashboard:
    pipeline_by_stage_and_owner: list[StageFigure] = strawberry.field(
        description="Open deals due to close in the period, by stage and owner."
    )
    weighted_forecast: DashboardFigure = strawberry.field(
        description="Open deals' amount weighted by stage probability, by expected close."
    )
    won_deals: DashboardFigure = strawberry.field(description="Deals won.")
    lost_deals: DashboardFigure = strawberry.field(description="Deals lost.")
    won_amount: DashboardFigure = strawberry.field(description="Amount won.")
    win_rate: DashboardFigure = strawberry.field(description="Won over won and lost, 0 to 1.")
    average_deal_size: DashboardFigure = strawberry.field(description="Won amount per won deal.")
    sales_cycle_days: DashboardFigure = strawberry.field(
        description="Average days from a won deal's creation to its win."
    )
    sales_velocity: Decimal = strawberry.field(
        description="Expected won amount a day: open deals x win rate x average deal size / "
        "sales cycle days."
    )
    close_reasons: list[CloseReason] = strawberry.field(description="Won and lost, by reason.")
    revenue_by_owner: list[OwnerRevenue] = strawberry.field(description="By sales person.")
    lead_sources: list[LeadSourceFigure] = strawberry.field(description="Leads by source.")
    stage_conversion: list[StageConversion] = strawberry.field(
        description="Per open stage, in pipeline order: deals that entered it in the period "
        "and the share that went on."
    )
    time_in_stage: list[StageTime] = strawberry.field(
        description="Per open stage: average and median days of the stays that ended."
    )
    stage_entries: DashboardFigure = strawberry.field(
        description="Deals entering an open stage, by the day they entered."
    )
    stage_advance_rate: DashboardFigure = strawberry.field(
        description="Of those entries, the share that reached the next stage, 0 to 1."
    )
    days_in_stage: DashboardFigure = strawberry.field(
        description="Average days of the stays in open stages that ended, by the day they ended."
    )
    competitors: list[CompetitorOutcome] = strawberry.field(
        description="Won and lost deals by the competitors they name."
    )
    lead_campaigns: list[CampaignLeadSource] = strawberry.field(
        description="Leads, conversions and won deals by the campaign that brought them."
    )


@strawberry.type(description="Tickets still to be worked, of one status and priority.")
class TicketCount:
    status: str = strawberry.field(description="new, open or pending.")
    priority: str = strawberry.field(description="low, normal, high or urgent.")
    tickets: int = strawberry.field(description="How many.")


@strawberry.type(
    description="The service desk over the tickets the viewer may read (the filter's owner "
    "and team are the assignee's). Times are wall-clock hours, not business hours."
)
class SupportDashboard:
    open_tickets: list[TicketCount] = strawberry.field(
        description="Now, whatever the period: new, open and pending tickets."
    )
    new_tickets: DashboardFigure = strawberry.field(description="Tickets created.")
    resolved_tickets: DashboardFigure = strawberry.field(description="By last resolution.")
    first_response_breaches: DashboardFigure = strawberry.field(
        description="First-response SLA breaches, by when they happened."
    )
    resolution_breaches: DashboardFigure = strawberry.field(
        description="Resolution SLA breaches, by when they happened."
    )
    sla_attainment: DashboardFigure = strawberry.field(
        description="Of the tickets created with SLA targets, the share with no breach, 0 to 1."
    )
    first_response_hours: DashboardFigure = strawberry.field(
        description="Average hours from creation to the first public reply, by reply."
    )
    resolution_hours: DashboardFigure = strawberry.field(
        description="Average hours from creation to resolution, by resolution."
    )
    satisfaction: DashboardFigure = strawberry.field(
        description="Average satisfaction score (1 to 5), by when it was given."
    )
    ratings: DashboardFigure = strawberry.field(description="How many scores were given.")


@strawberry.type(description="Flow runs of one definition version in one status.")
class FlowRunCount:
    flow_key: str = strawberry.field(description="The flow definition's key.")
    version: int = strawberry.field(description="The version the runs are pinned to.")
    status: str = strawberry.field(description="Where the runs are.")
    runs: int = strawberry.field(description="How many.")


@strawberry.type(description="How many of something are in one status.")
class StatusCount:
    status: str = strawberry.field(description="The status.")
    count: int = strawberry.field(description="How many.")


@strawberry.type(description="One sending of a broadcast and how far it got.")
class BroadcastProgress:
    name: str = strawberry.field(description="The broadcast's name.")
    occurrence: str = strawberry.field(description="The local date it is for.")
    status: str = strawberry.field(description="sending, or how it ended.")
    targeted: int = strawberry.field(description="Recipients in the audience.")
    sent: int = strawberry.field(description="Messages sent.")
    failed: int = strawberry.field(description="Messages that failed.")

    @strawberry.field(description="The Broadcast's global id.")
    def broadcast_id(self, root: strawberry.Parent[dashboards.BroadcastProgress]) -> relay.GlobalID:
        return relay.GlobalID("Broadcast", str(root.broadcast_id))


@strawberry.type(description="The machinery of the agency: flows, outbox, webhooks, broadcasts.")
class SysadminDashboard:
    flow_runs: list[FlowRunCount] = strawberry.field(
        description="Runs started in the period, by definition version and status."
    )
    flow_runs_started: DashboardFigure = strawberry.field(description="Runs started.")
    flow_runs_failed: DashboardFigure = strawberry.field(
        description="Runs failed or stalled (a step failing, waiting for a retry), by their "
        "last change."
    )
    outbox_pending: int = strawberry.field(description="Now: flow starts and signals waiting.")
    outbox_retrying: int = strawberry.field(
        description="Now: of those, the ones whose delivery to Temporal failed at least once."
    )
    outbox_oldest_pending_seconds: int = strawberry.field(
        description="Now: how long the oldest waiting one has waited (0: none waits)."
    )
    webhook_deliveries: list[StatusCount] = strawberry.field(
        description="Webhook deliveries of events in the period, by status."
    )
    webhook_failures: DashboardFigure = strawberry.field(description="Deliveries that failed.")
    webhook_retried: DashboardFigure = strawberry.field(
        description="Deliveries that took more than one attempt."
    )
    broadcast_runs: list[BroadcastProgress] = strawberry.field(
        description="Broadcast sendings started in the period (the latest 100)."
    )
    event_lag: EventLag = strawberry.field(
        description="Now: how far webhooks trail the event log, and its head."
    )
    imports: list[ImportProgress] = strawberry.field(
        description="Imports running now, or uploaded in the period (the latest 100)."
    )


DASHBOARD_FILTER = strawberry.argument(description="The period, its bucket and whose records.")


# The sales head's figures read from the deals' stage history (`domain.dashboard_stages`),
# counted only when a query selects one of them.
STAGE_HISTORY_FIELDS = frozenset(
    {"stageConversion", "timeInStage", "stageEntries", "stageAdvanceRate", "daysInStage"}
)


@strawberry.type
class DashboardQuery:
    @strawberry.field(
        description="A sales person's dashboard: pipeline, calling tasks, activities and "
        "conversion, each with its time series. Needs read access to sales records; counts "
        "only the records the viewer may read."
    )
    async def sales_dashboard(
        self, info: Info, filter: Annotated[DashboardFilterInput, DASHBOARD_FILTER]
    ) -> SalesDashboard:
        found: Any = await resolve.sales_dashboard(info.context, filter)
        return found  # type: ignore[no-any-return]

    @strawberry.field(
        description="A sales head's dashboard: pipeline by stage and owner, forecast, win "
        "rate, deal size, cycle, velocity, reasons, revenue by person and lead sources. "
        "Counts only the records the viewer may read."
    )
    async def sales_head_dashboard(
        self, info: Info, filter: Annotated[DashboardFilterInput, DASHBOARD_FILTER]
    ) -> SalesHeadDashboard:
        stage_history = bool(STAGE_HISTORY_FIELDS & selected_names(info))
        found: Any = await resolve.sales_head_dashboard(info.context, filter, stage_history)
        return found  # type: ignore[no-any-return]

    @strawberry.field(
        description="The support dashboard: open tickets, SLA attainment and breaches, "
        "response and resolution times, satisfaction. Needs read access to tickets; counts "
        "only the tickets the viewer may read."
    )
    async def support_dashboard(
        self, info: Info, filter: Annotated[DashboardFilterInput, DASHBOARD_FILTER]
    ) -> SupportDashboard:
        found: Any = await resolve.support_dashboard(info.context, filter)
        return found  # type: ignore[no-any-return]

    @strawberry.field(
        description="The sysadmin dashboard: flow runs, outbox backlog, webhook delivery "
        "health and broadcast progress (admins and sysadmins). The team and owner filters "
        "do not apply."
    )
    async def sysadmin_dashboard(
        self, info: Info, filter: Annotated[DashboardFilterInput, DASHBOARD_FILTER]
    ) -> SysadminDashboard:
        found: Any = await resolve.sysadmin_dashboard(info.context, filter)
        return found  # type: ignore[no-any-return]
