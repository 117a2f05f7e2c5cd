"""Dashboard types for the figures of domain.dashboard_stages, dashboard_sales and
dashboard_operations: stage conversion and time in stage, competitors, campaigns, event lag
and import progress."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry import relay

from domain import dashboard_operations, dashboard_sales, dashboard_stages


@strawberry.type(
    description="Deals that entered an open stage in the period, and how many went on: to "
    "the next stage of the pipeline, or to any later one (lost stages are no step forward), "
    "whenever they did."
)
class StageConversion:
    stage_name: str = strawberry.field(description="The stage's name.")
    entered: int = strawberry.field(description="Entries into the stage in the period.")
    reached_next: int = strawberry.field(description="Of those, how many reached the next stage.")
    reached_later: int = strawberry.field(
        description="Of those, how many reached any later stage (won included)."
    )
    next_rate: Decimal = strawberry.field(description="reachedNext over entered, 0 to 1.")
    later_rate: Decimal = strawberry.field(description="reachedLater over entered, 0 to 1.")

    @strawberry.field(description="The Stage's global id.")
    def stage_id(self, root: strawberry.Parent[dashboard_stages.StageConversion]) -> relay.GlobalID:
        return relay.GlobalID("Stage", str(root.stage_id))


@strawberry.type(
    description="Time deals spent in an open stage: the stays that ended in the period (by "
    "the day the deal moved on), in days."
)
class StageTime:
    stage_name: str = strawberry.field(description="The stage's name.")
    stays: int = strawberry.field(description="Stays that ended in the period.")
    average_days: Decimal = strawberry.field(description="Their average length, in days.")
    median_days: Decimal = strawberry.field(description="Their median length, in days.")

    @strawberry.field(description="The Stage's global id.")
    def stage_id(self, root: strawberry.Parent[dashboard_stages.StageTime]) -> relay.GlobalID:
        return relay.GlobalID("Stage", str(root.stage_id))


@strawberry.type(
    description="Deals closed in the period that named one competitor (a deal counts for "
    "each competitor it names)."
)
class CompetitorOutcome:
    competitor: str = strawberry.field(description="The competitor's name, as on the deals.")
    won_deals: int = strawberry.field(description="Deals won against it.")
    won_amount: Decimal = strawberry.field(description="Their summed amount.")
    lost_deals: int = strawberry.field(description="Deals lost with it in the running.")
    lost_amount: Decimal = strawberry.field(description="Their summed amount.")
    lost_to_deals: int = strawberry.field(
        description="Of the deals lost, those it took (lost to it, as said when they were lost)."
    )
    lost_to_amount: Decimal = strawberry.field(description="Their summed amount.")


@strawberry.type(
    description="Leads and won deals a campaign brought: those of contacts who signed up "
    "through it before the lead came in or the deal was opened."
)
class CampaignLeadSource:
    campaign_title: str = strawberry.field(description="The campaign's title.")
    leads: int = strawberry.field(description="Leads created in the period.")
    converted: int = strawberry.field(description="Of those, how many are converted.")
    won_deals: int = strawberry.field(
        description="Deals won in the period through the campaign (whenever the lead came)."
    )
    won_amount: Decimal = strawberry.field(description="Their summed amount.")

    @strawberry.field(description="The Campaign's global id.")
    def campaign_id(
        self, root: strawberry.Parent[dashboard_sales.CampaignSource]
    ) -> relay.GlobalID:
        return relay.GlobalID("Campaign", str(root.campaign_id))


@strawberry.type(
    description="How far the agency's event consumers trail its event log, now. (Live "
    "subscriptions read the log in each API process: their lag is in /metrics.)"
)
class EventLag:
    latest_event_id: int = strawberry.field(
        description="The log's head: the latest event's id, a subscription cursor (0: none)."
    )
    latest_event_seconds: int = strawberry.field(description="How long ago it was appended.")
    webhooks_not_started: int = strawberry.field(
        description="Webhook deliveries whose sending the relay has yet to start."
    )
    webhooks_unfinished: int = strawberry.field(
        description="Webhook deliveries not started or still being attempted."
    )
    webhook_oldest_unfinished_seconds: int = strawberry.field(
        description="How long the oldest unfinished delivery has waited (0: none)."
    )
    webhook_events_behind: int = strawberry.field(
        description="Events in the log from the oldest unfinished delivery's event on: how "
        "far webhooks trail the log."
    )


@strawberry.type(description="An import of a file of records and how far it has got.")
class ImportProgress:
    file_name: str = strawberry.field(description="The uploaded file's name.")
    record_type: str = strawberry.field(description="What its rows become.")
    status: str = strawberry.field(description="uploaded, running, completed or cancelled.")
    total_rows: int = strawberry.field(description="Data rows in the file.")
    done_rows: int = strawberry.field(description="Rows committed so far.")
    created: int = strawberry.field(description="Records created.")
    updated: int = strawberry.field(description="Records updated.")
    skipped: int = strawberry.field(description="Rows skipped.")
    failed: int = strawberry.field(description="Rows that failed.")

    @strawberry.field(description="The RecordImport's global id.")
    def import_id(
        self, root: strawberry.Parent[dashboard_operations.ImportProgress]
    ) -> relay.GlobalID:
        return relay.GlobalID("RecordImport", str(root.import_id))
