"""Broadcasts run by a real worker on Temporal, into a real SMTP server: the audience read
when the run starts, consent per recipient, progress counted, cancel, a worker restarted
mid-way that sends no second copy, and yearly ones on a Schedule (fixed date, or each
record's own date)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.broadcasts import Broadcast, BroadcastRun
from db.events import Event
from db.flow_runs import FlowRun
from domain import custom_fields, message_templates
from domain.broadcasts import cancel_broadcast, create_broadcast, workflow_id_for
from domain.message_preferences import update_preferences
from domain.outbox import OutboxKind, OutboxMessage
from tests.fixtures.flows import Flows, eventually, prepare_flows
from tests.fixtures.smtp import SmtpServer

GREETING = {
    "key": "season",
    "name": "Season's greetings",
    "kind": "greetings",
    "subject": "Season's greetings, {{ recipient.first_name }}",
    "text_body": "Warm wishes from {{ agency.name }}.",
}


async def ready(flows: Flows) -> None:
    await message_templates.seed_default_templates(flows.agency_id, [GREETING])


async def people(flows: Flows, names: list[str], **fields: Any) -> list[Any]:
    """Contacts; the default flows they would start are not what these tests are about."""
    made = [
        await flows.create_contact(
            first_name=name, emails=[f"{name.lower()}@example.com"], **fields
        )
        for name in names
    ]
    await OutboxMessage.filter(agency_id=flows.agency_id, kind=OutboxKind.START_FLOW).delete()
    # Their runs never start, so nothing may be signalled to them either (the nurture stops
    # on consent changes, which these tests make).
    await FlowRun.filter(agency_id=flows.agency_id).delete()
    return made


def async_check(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool | None]]:
    async def check() -> bool | None:
        return True if condition() else None

    return check


def recipients(smtp: SmtpServer) -> Counter[str]:
    return Counter(address for mail in smtp.messages for address in mail.rcpt_tos)


async def run_handle(flows: Flows, broadcast: Broadcast) -> WorkflowHandle[Any, Any]:
    await flows.relay_all()
    return flows.client.get_workflow_handle(workflow_id_for(broadcast))


async def test_a_one_off_broadcast_waits_for_its_time_and_sends_to_whom_it_may(
    flows: Flows, smtp_server: SmtpServer
) -> None:
    await ready(flows)
    _, grace, _ = await people(flows, ["Ada", "Grace"], tags=["vip"]) + await people(
        flows, ["Linus"]
    )
    await update_preferences(flows.actor, "contact", grace.id, {"receives": ["sales"]})
    broadcast = await create_broadcast(
        flows.actor,
        {
            "name": "Winter",
            "template": "season",
            "audience": {"tags": ["vip"]},
            "time_zone": "Europe/London",
            "send_at": datetime.now(UTC) + timedelta(days=3),
        },
    )

    handle = await run_handle(flows, broadcast)
    async with flows.worker():
        progress: Any = await flows.result(handle)

    assert recipients(smtp_server) == Counter({"ada@example.com": 1})
    assert smtp_server.messages[0].message["Subject"] == "Season's greetings, Ada"
    assert progress["done"]
    [run] = await BroadcastRun.filter(broadcast_id=broadcast.id)
    assert (run.status, run.targeted, run.sent, run.failed) == ("sent", 2, 1, 0)
    assert run.skipped == {"opted_out": 1}
    assert (await Broadcast.get(id=broadcast.id)).status == "sent"
    progressed = await Event.filter(type="broadcast.progressed", aggregate_id=str(broadcast.id))
    assert progressed[-1].payload["sent"] == 1


async def test_a_broadcast_cancelled_before_its_time_sends_nothing(
    flows: Flows, smtp_server: SmtpServer
) -> None:
    await ready(flows)
    await people(flows, ["Ada"])
    broadcast = await create_broadcast(
        flows.actor,
        {"name": "Later", "template": "season", "send_at": datetime.now(UTC) + timedelta(days=1)},
    )
    handle = await run_handle(flows, broadcast)

    await cancel_broadcast(flows.actor, broadcast.id)
    await flows.relay_all()
    async with flows.worker():
        assert await flows.result(handle) is None

    assert smtp_server.messages == []
    assert not await BroadcastRun.filter(broadcast_id=broadcast.id).exists()
    assert (await Broadcast.get(id=broadcast.id)).status == "cancelled"


async def test_a_worker_stopped_mid_broadcast_and_restarted_sends_no_second_copy(
    flows: Flows, smtp_server: SmtpServer
) -> None:
    await ready(flows)
    names = [f"Person{i:03d}" for i in range(150)]  # two batches
    await people(flows, names)
    flows.broadcast_rate = 30.0  # slow enough to stop the worker in the middle
    broadcast = await create_broadcast(
        flows.actor,
        {"name": "All", "template": "season", "send_at": datetime.now(UTC)},
    )
    handle = await run_handle(flows, broadcast)

    async with flows.worker(max_cached_workflows=0):
        await eventually(async_check(lambda: len(smtp_server.messages) >= 15))
    stopped_at = len(smtp_server.messages)
    assert stopped_at < len(names), "the worker finished before it was stopped"
    flows.broadcast_rate = 1_000.0
    async with flows.worker(max_cached_workflows=0):
        await flows.result(handle)

    sent = recipients(smtp_server)
    assert len(sent) == len(names)
    assert set(sent.values()) == {1}, "someone got a second copy"
    [run] = await BroadcastRun.filter(broadcast_id=broadcast.id)
    assert (run.targeted, run.sent) == (150, 150)


@pytest.fixture
async def dev_flows(
    db: Any, temporal_dev_env: WorkflowEnvironment, task_queue: str, smtp_server: SmtpServer
) -> Flows:
    """Schedules need the real dev server (the time-skipping one has none)."""
    return await prepare_flows(temporal_dev_env.client, task_queue, smtp_server, skips_time=False)


async def test_a_yearly_greeting_is_a_schedule_at_its_local_date_and_time(
    dev_flows: Flows, smtp_server: SmtpServer
) -> None:
    flows = dev_flows
    await ready(flows)
    await people(flows, ["Ada"])
    london = ZoneInfo("Europe/London")
    broadcast = await create_broadcast(
        flows.actor,
        {
            "name": "Christmas",
            "template": "season",
            "time_zone": "Europe/London",
            "send_at": datetime(2026, 12, 25, 9, 0, tzinfo=london),
            "recurrence": "yearly",
        },
    )
    await flows.relay_all()
    schedule = flows.client.get_schedule_handle(workflow_id_for(broadcast))

    described = await schedule.describe()
    upcoming = [t.astimezone(london) for t in described.info.next_action_times[:2]]
    assert [(t.month, t.day, t.hour, t.minute) for t in upcoming] == [(12, 25, 9, 0)] * 2
    assert upcoming[1].year == upcoming[0].year + 1
    async with flows.worker():
        await schedule.trigger()
        await eventually(async_check(lambda: bool(smtp_server.messages)))
    assert recipients(smtp_server) == Counter({"ada@example.com": 1})

    await cancel_broadcast(flows.actor, broadcast.id)
    await flows.relay_all()
    with pytest.raises(Exception, match="not found"):
        await schedule.describe()


async def test_a_birthday_greeting_goes_each_day_to_those_born_on_it(
    dev_flows: Flows, smtp_server: SmtpServer
) -> None:
    flows = dev_flows
    await ready(flows)
    await custom_fields.define_custom_field(
        flows.actor,
        {"record_type": "contact", "key": "birthday", "label": "Birthday", "type": "date"},
    )
    today = datetime.now(ZoneInfo("Pacific/Auckland")).date()
    other_day = today + timedelta(days=1)
    for name, born in (("Ada", today.replace(year=1990)), ("Grace", other_day.replace(year=1985))):
        await people(flows, [name], custom_fields=[{"key": "birthday", "date": born.isoformat()}])
    await people(flows, ["Linus"])
    broadcast = await create_broadcast(
        flows.actor,
        {
            "name": "Birthdays",
            "template": "season",
            "time_zone": "Pacific/Auckland",
            "send_at": datetime(2026, 1, 1, 8, 30, tzinfo=ZoneInfo("Pacific/Auckland")),
            "recurrence": "yearly_on_field",
            "date_field": "custom_fields.birthday",
        },
    )
    await flows.relay_all()
    schedule = flows.client.get_schedule_handle(workflow_id_for(broadcast))
    described = await schedule.describe()
    first, second = (
        t.astimezone(ZoneInfo("Pacific/Auckland")) for t in described.info.next_action_times[:2]
    )
    assert (first.hour, first.minute) == (8, 30)
    assert second - first == timedelta(days=1)

    async with flows.worker():
        await schedule.trigger()
        await eventually(
            lambda: BroadcastRun.filter(broadcast_id=broadcast.id, status="sent").first()
        )

    assert recipients(smtp_server) == Counter({"ada@example.com": 1})
    [run] = await BroadcastRun.filter(broadcast_id=broadcast.id)
    assert run.occurrence == today.isoformat()
    await cancel_broadcast(flows.actor, broadcast.id)
    await flows.relay_all()
