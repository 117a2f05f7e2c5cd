"""Campaign activities: the period's start and end, and the owner's activity notifications."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from temporalio import activity

from domain import campaign_notifications, campaign_summaries, campaigns


@activity.defn(name="campaign_period_reached")
async def campaign_period_reached(campaign_id: str, edge: str, moment: str, now: str) -> str:
    """Idempotent: a retry finds the campaign moved already and does nothing."""
    return await campaigns.period_reached(
        UUID(campaign_id), edge, datetime.fromisoformat(moment), datetime.fromisoformat(now)
    )


@activity.defn(name="notify_campaign_activity")
async def notify_campaign_activity(campaign_id: str) -> bool:
    """Idempotent: the owner is told only of what is new since the last notification."""
    return await campaign_notifications.notify_activity(UUID(campaign_id))


@activity.defn(name="send_campaign_summaries")
async def send_campaign_summaries(moment: str) -> int:
    """Idempotent: owners already summarised for the day are skipped."""
    return await campaign_summaries.send_daily_summaries(datetime.fromisoformat(moment))


CAMPAIGN_ACTIVITIES: list[Callable[..., Awaitable[Any]]] = [
    campaign_period_reached,
    notify_campaign_activity,
    send_campaign_summaries,
]
