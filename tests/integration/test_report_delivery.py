"""Scheduled report delivery on the real Temporal dev server (the time-skipping one has no
schedules) into a real SMTP server: the relay creates each schedule at its local time, a
triggered run mails the report as an attachment (CSV and XLSX) with the rows the export gives
the owner, a retried run sends nothing twice, and a deactivated owner stops the deliveries
and pauses the Temporal Schedule with the reason."""

from __future__ import annotations

import contextlib
import csv
import io
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from temporalio.client import ScheduleHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.messages import MessageActivities
from db.flow_runs import FlowRun
from db.messages import Message
from db.outbox import OutboxMessage
from db.report_schedules import ReportDelivery, ReportSchedule
from db.users import User
from domain import agencies, report_schedules, users
from domain.actors import Actor
from domain.outbox import OutboxKind
from domain.report_schedules import report_file, report_filter, temporal_schedule_id
from domain.roles import Role
from domain.users import team_of
from tests.fixtures.flows import Flows, eventually, prepare_flows
from tests.fixtures.smtp import ReceivedEmail, SmtpServer


@pytest.fixture
async def dev_flows(
    db: Any, temporal_dev_env: WorkflowEnvironment, task_queue: str, smtp_server: SmtpServer
) -> Flows:
    return await prepare_flows(temporal_dev_env.client, task_queue, smtp_server, skips_time=False)


async def head_actor(flows: Flows) -> Actor:
    head = await User.get(id=flows.head_id)
    return Actor(
        agency_id=flows.agency_id,
        id=f"user:{head.id}",
        user_id=head.id,
        roles=frozenset({Role.SALES_HEAD}),
        team=await team_of(head.id, head.agency_id, head.org_unit_id),
    )


async def north_team_with_contacts(flows: Flows) -> None:
    """The head and the sales person in North, 2 contacts of theirs; 1 of someone outside."""
    unit = await agencies.create_org_unit(flows.actor, "North", None)
    await User.filter(id__in=[flows.head_id, flows.owner_id]).update(org_unit_id=unit.id)
    outsider = await User.create(
        agency_id=flows.agency_id,
        email=f"out-{uuid.uuid4().hex[:8]}@example.com",
        name="Otto Outside",
        password_hash="-",
        roles=["sales_person"],
    )
    for owner, name in ((flows.owner_id, "Ada"), (flows.owner_id, "Grace"), (outsider.id, "Linus")):
        await flows.create_contact(first_name=name, owner_id=owner, emails=[f"{name}@example.com"])
    # Their nurture flows are not what this test is about.
    await OutboxMessage.filter(agency_id=flows.agency_id, kind=OutboxKind.START_FLOW).delete()
    await FlowRun.filter(agency_id=flows.agency_id).delete()


def attachment(mail: ReceivedEmail) -> tuple[str, bytes]:
    [part] = list(mail.message.iter_attachments())
    content = part.get_payload(decode=True)
    assert isinstance(content, bytes)
    return str(part.get_filename()), content


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    return list(
        load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True)
    )


async def delivered(schedule: ReportSchedule, status: str, count: int = 1) -> list[ReportDelivery]:
    async def check() -> list[ReportDelivery] | None:
        found = await ReportDelivery.filter(schedule_id=schedule.id, status=status).order_by("id")
        return found if len(found) >= count else None

    return await eventually(check)


async def idle(handle: ScheduleHandle) -> None:
    """Until the schedule's runs have ended (its delivery row is written a workflow task
    before the run ends; a run still open would make the next trigger a skipped overlap)."""

    async def check() -> bool | None:
        return True if not (await handle.describe()).info.running_actions else None

    await eventually(check)


async def test_a_triggered_schedule_mails_the_report_its_owner_may_read(
    dev_flows: Flows, smtp_server: SmtpServer
) -> None:
    flows = dev_flows
    await north_team_with_contacts(flows)
    head = await head_actor(flows)
    owner = await User.get(id=flows.owner_id)
    head_user = await User.get(id=flows.head_id)
    daily = {
        "frequency": "daily",
        "hour": 7,
        "minute": 15,
        "time_zone": "Europe/Paris",
        "period": "year_to_date",
        "bucket": "month",
    }
    as_csv = await report_schedules.create_schedule(
        head,
        {
            **daily,
            "name": "North daily",
            "report": "sales",
            "recipient_ids": [head.user_id, owner.id],
        },
    )
    as_xlsx = await report_schedules.create_schedule(
        head,
        {
            **daily,
            "name": "North book",
            "report": "sales-head",
            "file_format": "xlsx",
            "recipient_ids": [head.user_id],
        },
    )
    client = flows.client
    handles = {
        s.id: client.get_schedule_handle(temporal_schedule_id(s.id)) for s in (as_csv, as_xlsx)
    }
    try:
        await flows.relay_all()
        # The server's calendar and the API's next run times agree.
        described = await handles[as_csv.id].describe()
        now = datetime.now(UTC)
        assert described.info.next_action_times[:3] == report_schedules.next_run_times(as_csv, now)
        assert [t.astimezone(UTC).hour for t in described.info.next_action_times[:1]] in ([5], [6])

        async with flows.worker():
            for handle in handles.values():
                await handle.trigger()
            [csv_run] = await delivered(as_csv, "sent")
            [xlsx_run] = await delivered(as_xlsx, "sent")
            for handle in handles.values():
                await idle(handle)

        # One message per recipient, each with the file.
        mails = {tuple(m.rcpt_tos): m for m in smtp_server.messages}
        assert Counter(a for m in smtp_server.messages for a in m.rcpt_tos) == Counter(
            {head_user.email: 2, owner.email: 1}
        )
        period = report_filter(as_csv, csv_run.run_at)
        expected_csv = await report_file(head, "sales", period, "csv")
        csv_mails = [m for m in smtp_server.messages if "North daily" in str(m.message["Subject"])]
        assert len(csv_mails) == 2
        for mail in csv_mails:
            name, content = attachment(mail)
            assert name == f"sales-{period.start}-{period.end}.csv"
            assert content == expected_csv
        rows = list(csv.reader(io.StringIO(expected_csv.decode())))
        # The owner's row scope: the team's two contacts, not the outsider's.
        assert ["new_contacts", "", "total", "2"] in rows
        assert (csv_run.messages, csv_run.sent) == (2, 2)
        assert not [m for m in mails.values() if m.message["List-Unsubscribe"]]

        [xlsx_mail] = [m for m in smtp_server.messages if "North book" in str(m.message["Subject"])]
        name, content = attachment(xlsx_mail)
        assert name.endswith(".xlsx")
        expected_xlsx = await report_file(
            head, "sales-head", report_filter(as_xlsx, xlsx_run.run_at), "xlsx"
        )
        assert sheet_rows(content) == sheet_rows(expected_xlsx)

        # The run's activity retried after it queued its messages: the same messages, and
        # delivering them again sends nothing more.
        again = await report_schedules.prepare_run(as_csv.id, csv_run.run_key, csv_run.run_at)
        assert again.delivery_id == csv_run.id
        queued = await Message.filter(source=f"report_delivery:{csv_run.id}").order_by("id")
        assert sorted(again.message_ids) == [message.id for message in queued]
        deliver = MessageActivities(smtp_server.config(), flows.links).deliver_message
        for message_id in again.message_ids:
            await deliver(message_id)
        assert len(smtp_server.messages) == 3

        # The owner deactivated: the next run sends nothing, pauses the schedule with the
        # reason, and the relay pauses the Temporal Schedule too.
        await users.update_user(flows.actor, head_user.id, {"is_active": False})
        async with flows.worker():
            await handles[as_csv.id].trigger()
            [stopped] = await delivered(as_csv, "stopped")
        assert "deactivated" in stopped.reason
        assert len(smtp_server.messages) == 3
        paused = await ReportSchedule.get(id=as_csv.id)
        assert (paused.status, paused.paused_reason) == ("paused", stopped.reason)
        await flows.relay_all()
        state = (await handles[as_csv.id].describe()).schedule.state
        assert state.paused
        assert state.note == stopped.reason

        # Deleted: its Temporal Schedule goes too.
        await report_schedules.delete_schedule(flows.actor, as_csv.id)
        await flows.relay_all()
        with pytest.raises(RPCError, match="not found"):
            await handles[as_csv.id].describe()
    finally:
        for handle in handles.values():
            with contextlib.suppress(RPCError):
                await handle.delete()


async def test_an_update_and_a_pause_reach_the_temporal_schedule(dev_flows: Flows) -> None:
    flows = dev_flows
    schedule = await report_schedules.create_schedule(
        await head_actor(flows),
        {
            "name": "Weekly",
            "report": "sales",
            "period": "last_week",
            "frequency": "weekly",
            "weekday": 0,
            "hour": 9,
            "time_zone": "America/New_York",
            "recipient_ids": [flows.head_id],
        },
    )
    handle = flows.client.get_schedule_handle(temporal_schedule_id(schedule.id))
    try:
        await flows.relay_all()
        await flows.relay_all()  # a second delivery of the same state changes nothing
        changed = await report_schedules.update_schedule(
            flows.actor,
            schedule.id,
            {"frequency": "monthly", "weekday": None, "day_of_month": 15, "hour": 18},
        )
        await report_schedules.pause_schedule(flows.actor, schedule.id)
        await report_schedules.resume_schedule(flows.actor, schedule.id)
        await report_schedules.pause_schedule(flows.actor, schedule.id)
        await flows.relay_all()
        described = await handle.describe()
        assert described.schedule.state.paused
        [calendar] = described.schedule.spec.calendars
        assert (calendar.day_of_month[0].start, calendar.hour[0].start) == (15, 18)
        assert described.schedule.spec.time_zone_name == "America/New_York"
        await report_schedules.resume_schedule(flows.actor, schedule.id)
        await flows.relay_all()
        described = await handle.describe()
        assert not described.schedule.state.paused
        assert described.info.next_action_times[:3] == report_schedules.next_run_times(
            await ReportSchedule.get(id=changed.id), datetime.now(UTC)
        )
    finally:
        with contextlib.suppress(RPCError):
            await handle.delete()
