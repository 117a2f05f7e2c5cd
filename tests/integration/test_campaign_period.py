"""The period moves a campaign by Temporal timers (time skipping): New -> Active at its start,
Active -> In-active at its end; a moved period moves the timers; an activation its guards
refuse leaves the campaign New and tells the owner why; activity reaches the owner batched.
With CRM_RECORD_FLOW_HISTORIES=1 the moved period's run is recorded for the replay tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from db.events import Event
from db.notifications import Notification
from domain import campaigns
from domain.campaign_counters import CounterKind, count
from domain.notification_kinds import NotificationKind
from tests.fixtures.flows import Flows
from tests.integration.test_flow_runs import keep_history


async def a_campaign(flows: Flows, code: str, **fields: Any) -> campaigns.Campaign:
    now = datetime.now(UTC)
    return await campaigns.create_campaign(
        flows.actor,
        {
            "title": code.title(),
            "code": code,
            "campaign_type": "promotion",
            "owner_id": flows.owner_id,
            "template_keys": ["contact-welcome"],
            "starts_at": now + timedelta(hours=2),
            "ends_at": now + timedelta(hours=4),
            **fields,
        },
    )


async def test_the_period_activates_and_deactivates_and_a_moved_period_moves_the_timers(
    flows: Flows,
) -> None:
    moved = await a_campaign(flows, "moved")
    unready = await a_campaign(flows, "unready", template_keys=[])
    for campaign in (moved, unready):
        await campaigns.transition_campaign(flows.actor, campaign.id, "submit")
    await flows.relay_all()
    later = datetime.now(UTC) + timedelta(hours=3)
    await campaigns.update_campaign(
        flows.actor, moved.id, {"starts_at": later, "ends_at": later + timedelta(hours=2)}
    )
    await flows.relay_all()
    # Activity before the start: told once, in one notification, at the first hourly wake.
    for kind, units in ((CounterKind.LIKE, 3), (CounterKind.VIEW, 1), (CounterKind.VIEW, 1)):
        await count(moved.id, kind, datetime.now(UTC), units=units)

    handles = [
        flows.client.get_workflow_handle(campaigns.period_workflow_id(c)) for c in (moved, unready)
    ]
    async with flows.worker():
        assert [await flows.result(handle) for handle in handles] == ["ended", "ended"]

    await keep_history("campaign-period-moved", handles[0])
    # The run ended at the moved end (workflow time), not the first one.
    closed = (await handles[0].describe()).close_time
    assert closed is not None
    assert abs((closed - (later + timedelta(hours=2))).total_seconds()) < 120
    transitions = await Event.filter(
        type="campaign.transitioned", aggregate_id=str(moved.id)
    ).order_by("id")
    assert [(e.payload["from"], e.payload["to"]) for e in transitions] == [
        ("draft", "new"),
        ("new", "active"),
        ("active", "inactive"),
    ]
    assert (await campaigns.Campaign.get(id=moved.id)).status == "inactive"
    assert (await campaigns.Campaign.get(id=unready.id)).status == "new"
    told = await Notification.filter(
        user_id=flows.owner_id, kind=NotificationKind.CAMPAIGN_STATUS
    ).order_by("id")
    assert [n.message for n in told] == [
        "Campaign 'Unready' did not start: Cannot activate without a published template.",
        "Campaign 'Moved' is active.",
        "Campaign 'Moved' is in-active.",
    ]
    activity = await Notification.filter(
        user_id=flows.owner_id, kind=NotificationKind.CAMPAIGN_ACTIVITY
    )
    assert [n.message for n in activity] == [
        "Campaign 'Moved': 2 views, 3 likes since the last update."
    ]
