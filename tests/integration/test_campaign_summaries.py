"""The daily campaign summary on the time-skipping server: the quarter-hourly run sends each
owner the summary of their own local day just after it ends (Tokyo and New York, hours
apart), with that day's counts, new contacts and conversions, and never twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from temporalio.client import ScheduleActionStartWorkflow, ScheduleIntervalSpec
from temporalio.testing import WorkflowEnvironment

from crm.schedules import CAMPAIGN_SUMMARY_EVERY, CAMPAIGN_SUMMARY_SCHEDULE, ensure_schedules
from db.campaigns import CampaignAttribution
from db.notifications import Notification
from db.pipelines import Stage
from db.users import User
from domain import campaigns, contacts, deals
from domain.campaign_counters import CounterKind, count
from domain.notification_kinds import NotificationKind
from tests.fixtures.flows import Flows
from workflows.campaign_summaries import CampaignSummaries


def next_midnight(after: datetime, zone: str) -> datetime:
    local = after.astimezone(ZoneInfo(zone))
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
    return midnight.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def day_before(midnight: datetime, zone: str) -> str:
    return (midnight - timedelta(hours=1)).astimezone(ZoneInfo(zone)).date().isoformat()


async def owner_in(flows: Flows, zone: str) -> User:
    return await User.create(
        agency_id=flows.agency_id,
        email=f"owner-{uuid.uuid4().hex[:8]}@example.com",
        name=zone,
        password_hash="-",
        roles=["marketing"],
        time_zone=zone,
    )


async def active_campaign(flows: Flows, title: str, owner: User) -> campaigns.Campaign:
    now = datetime.now(UTC)
    campaign = await campaigns.create_campaign(
        flows.actor,
        {
            "title": title,
            "code": title.lower(),
            "campaign_type": "promotion",
            "owner_id": owner.id,
            "template_keys": ["contact-welcome"],
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=5),
        },
    )
    for event in ("submit", "activate"):
        campaign = await campaigns.transition_campaign(flows.actor, campaign.id, event)
    return campaign


async def run_summaries(flows: Flows) -> int:
    handle = await flows.client.start_workflow(
        CampaignSummaries.run, id=f"summaries-{uuid.uuid4()}", task_queue=flows.task_queue
    )
    return await handle.result()


async def test_each_owner_gets_the_summary_of_their_own_day_just_after_it_ends(
    flows: Flows, temporal_env: WorkflowEnvironment
) -> None:
    tokyo, new_york = await owner_in(flows, "Asia/Tokyo"), await owner_in(flows, "America/New_York")
    sakura = await active_campaign(flows, "Sakura", tokyo)
    liberty = await active_campaign(flows, "Liberty", new_york)
    now = datetime.now(UTC)
    ends = {
        tokyo.id: next_midnight(now, "Asia/Tokyo"),
        new_york.id: next_midnight(now, "America/New_York"),
    }
    await count(sakura.id, CounterKind.LIKE, ends[tokyo.id] - timedelta(hours=1), units=2)
    await count(sakura.id, CounterKind.VIEW, ends[tokyo.id] + timedelta(hours=1))  # the next day
    await count(liberty.id, CounterKind.VIEW, ends[new_york.id] - timedelta(minutes=30), units=3)
    ada = await contacts.create_contact(flows.actor, {"first_name": "Ada"})
    await CampaignAttribution.create(
        agency_id=flows.agency_id, campaign_id=sakura.id, contact_id=ada.id
    )
    deal = await deals.create_deal(
        flows.actor,
        {"name": "Deal", "expected_close_date": "2030-01-01", "contact_id": ada.id},
    )
    [won] = await Stage.filter(pipeline_id=deal.pipeline_id, kind="won")
    await deals.move_deal(flows.actor, deal.id, {"stage_id": won.id})
    expected = {
        tokyo.id: (
            f"Your campaigns on {day_before(ends[tokyo.id], 'Asia/Tokyo')} "
            "(Asia/Tokyo):\n- Sakura: 0 views, 2 likes, 0 sign-ups, 1 new contact, 1 conversion"
        ),
        new_york.id: (
            f"Your campaigns on {day_before(ends[new_york.id], 'America/New_York')} "
            "(America/New_York):\n- Liberty: 3 views, 0 likes, 0 sign-ups, 0 new contacts, "
            "0 conversions"
        ),
    }

    # Time moves only when the test sleeps (a run has no timer to skip).
    with temporal_env.auto_time_skipping_disabled():
        async with flows.worker():
            assert await run_summaries(flows) == 0  # nobody's day has ended
            for owner_id, midnight in sorted(ends.items(), key=lambda item: item[1]):
                await temporal_env.sleep(
                    midnight + timedelta(minutes=5) - await temporal_env.get_current_time()
                )
                assert await run_summaries(flows) == 1
                assert await run_summaries(flows) == 0  # a repeated run sends nothing twice
                summaries = await Notification.filter(
                    kind=NotificationKind.CAMPAIGN_SUMMARY, user_id=owner_id
                )
                assert [n.message for n in summaries] == [expected[owner_id]]
    assert await Notification.filter(kind=NotificationKind.CAMPAIGN_SUMMARY).count() == 2


async def test_a_worker_keeps_the_quarter_hourly_summary_schedule(
    temporal_dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_dev_env.client
    await ensure_schedules(client, task_queue)
    schedule = client.get_schedule_handle(CAMPAIGN_SUMMARY_SCHEDULE)
    try:
        described = await schedule.describe()
        assert described.schedule.spec.intervals == [
            ScheduleIntervalSpec(every=CAMPAIGN_SUMMARY_EVERY)
        ]
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert action.workflow == "CampaignSummaries"
    finally:
        await schedule.delete()
