"""The default flows end to end on the time-skipping server: days of waiting pass in seconds.

Contacts change through the domain service, the relay delivers the outbox, a real worker runs
FlowRun and its activities on the test's database, and mail reaches a real SMTP server.
These run on SQLite only: the database behaviour they rely on (outbox rows, step effects)
is proven on both backends in test_flow_triggers.py and test_flow_activities.py.

With CRM_RECORD_FLOW_HISTORIES=1 each default-flow test also writes its run histories to
tests/replay/histories/, which the replay tests replay against the current workflow code.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from google.protobuf.empty_pb2 import Empty
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.customers import Customer
from db.events import Event
from db.flow_runs import FlowRun as FlowRunRow
from db.notifications import Notification
from domain.calling_tasks import create_calling_task, transition_calling_task
from domain.contacts import transition_contact
from domain.customers import link_contact, transition_customer, update_customer
from domain.flow_runs import request_cancel, request_step_retry
from domain.flows.definitions import FlowRunStatus
from domain.flows.service import (
    cancel_run,
    create_draft,
    create_flow,
    edit_draft,
    get_draft,
    publish_draft,
    start_flow_manually,
)
from domain.meetings import (
    BookingOutcome,
    Meeting,
    book_meeting,
    hold_meeting,
    propose_meeting,
    slots_of,
)
from domain.notification_kinds import NotificationKind
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.flows import REAL_TIME_LIMIT, FlowHandle, Flows, prepare_flows
from tests.fixtures.smtp import SmtpServer
from workflows.flow_run import FlowRun, FlowRunResult

pytestmark = pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)

HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"


async def keep_history(name: str, handle: WorkflowHandle[Any, Any]) -> None:
    """Record the run's history for the replay tests, when asked to."""
    if os.environ.get("CRM_RECORD_FLOW_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(parents=True, exist_ok=True)
    text = json.dumps(json.loads(history.to_json()), indent=1, sort_keys=True)
    (HISTORIES / f"{name}.json").write_text(text + "\n")


def subjects(flows: Flows) -> list[str]:
    return [str(received.message["Subject"]) for received in flows.smtp.messages]


def mail_by_recipient(flows: Flows) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for received in flows.smtp.messages:
        for recipient in received.rcpt_tos:
            found.setdefault(recipient, []).append(str(received.message["Subject"]))
    return found


async def notifications(flows: Flows, user_id: UUID | None = None) -> list[str]:
    """What the flows' notify steps told a user, oldest first (the owner unless another user
    is named). The note each assignee gets of a calling task given to them is left out here
    (`assignments`)."""
    found = (
        await Notification.filter(user_id=user_id or flows.owner_id)
        .exclude(kind=NotificationKind.CALLING_TASK_ASSIGNED)
        .order_by("id")
    )
    return [notification.message for notification in found]


async def assignments(flows: Flows, user_id: UUID) -> list[str]:
    """The calling tasks a user was told they were given, oldest first."""
    found = await Notification.filter(
        user_id=user_id, kind=NotificationKind.CALLING_TASK_ASSIGNED
    ).order_by("id")
    return [n.message.split(", due")[0] for n in found]


async def server_time(flows: Flows) -> datetime:
    """The Temporal server's time: on the time-skipping server it runs ahead of the clock once
    a test has skipped time, and due times must lie ahead of it (and of the real clock)."""
    response = await flows.client.test_service.get_current_time(Empty())
    return max(response.time.ToDatetime(tzinfo=UTC), datetime.now(UTC)).replace(microsecond=0)


async def until_timer_moves(handle: FlowHandle, timer: datetime | None) -> None:
    async with asyncio.timeout(REAL_TIME_LIMIT):
        while await handle.query(FlowRun.next_timer) in (timer, None):  # noqa: ASYNC110 (polling a workflow query)
            await asyncio.sleep(0.02)


async def status_of(contact: Contact) -> str:
    return (await Contact.get(id=contact.id)).status


NURTURE_SUBJECTS = [
    "Welcome, Ada",
    "How we help companies like Analytical Engines",
    "What others got out of it, Ada",
    "Still interested, Ada?",
]


async def email_days(handle: FlowHandle) -> list[float]:
    """On which day of the run (in the workflow's time, which skips) each email was sent."""
    history = await handle.fetch_history()
    sent = [
        event.event_time.ToDatetime()
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == "send_flow_message"
    ]
    return [round((moment - sent[0]) / timedelta(days=1), 1) for moment in sent]


async def test_contact_nurture_emails_on_days_0_3_7_and_14_then_cools_down_a_contact_still_new(
    flows: Flows,
) -> None:
    ada = await flows.create_contact()
    await flows.relay_all()

    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        result = await flows.result(nurture)

    assert result.status == FlowRunStatus.COMPLETED
    assert subjects(flows) == NURTURE_SUBJECTS
    assert await email_days(nurture) == [0, 3, 7, 14]
    assert [m.rcpt_tos for m in flows.smtp.messages] == [["ada@example.com"]] * 4
    assert "Hello Ada," in flows.smtp.messages[0].message.get_content()
    assert "glad to help Analytical Engines" in flows.smtp.messages[3].message.get_content()
    assert await status_of(ada) == "cold"
    assert await notifications(flows) == [
        "Ada Lovelace did not answer the nurture emails and is now Cold."
    ]
    row = await flows.run_row("contact-nurture", ada)
    assert (row.status, row.current_step, row.version) == ("completed", "done", 1)
    assert (row.stop_reason, row.finished_at is not None) == ("", True)
    await keep_history("contact-nurture-sequence-cools-down", nurture)


async def support_schedules_the_call(
    flows: Flows, conversion: FlowHandle, contact: Contact
) -> CallingTask:
    """Support agrees a meeting and schedules its task: the task's event reaches the
    contact's conversion run, which asks the owner for time slots and waits for a booking."""
    await flows.reach(conversion, "wait-for-meeting")
    task = await CallingTask.get(contact_id=contact.id)
    await transition_calling_task(
        flows.actor, task.id, "schedule", due_at=await server_time(flows) + timedelta(days=2)
    )
    await flows.relay_all()
    await flows.reach(conversion, "wait-for-booking")
    return task


async def meeting_booked_by(flows: Flows, contact: Contact) -> Meeting:
    """The owner proposes a time two days ahead and the contact books it on the page."""
    meeting = await propose_meeting(
        flows.actor,
        {
            "contact_id": contact.id,
            "owner_id": flows.owner_id,
            "title": "Introduction",
            "slots": [await server_time(flows) + timedelta(days=2)],
            "duration_minutes": 30,
        },
    )
    booking = await book_meeting(meeting.id, (await slots_of(meeting))[0].id)
    assert booking.outcome is BookingOutcome.BOOKED
    return booking.meeting


async def test_contact_conversion_books_a_meeting_through_support_and_converts_when_it_is_held(
    flows: Flows,
) -> None:
    ada = await flows.create_contact()
    await flows.relay_all()

    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        await flows.reach(nurture, "wait-for-interest")
        await transition_contact(flows.actor, ada.id, "mark_hot")
        await flows.relay_all()  # the event to the nurture run, the conversion flow's start
        conversion = await flows.run_of("contact-conversion", ada)
        task = await support_schedules_the_call(flows, conversion, ada)
        # The owner sends time slots and Ada books one: the meeting's event reaches her run.
        meeting = await meeting_booked_by(flows, ada)
        await flows.relay_all()
        await flows.reach(conversion, "wait-for-meeting-done")
        await transition_calling_task(
            flows.actor, task.id, "complete", outcome_notes="Meeting agreed and booked."
        )
        await hold_meeting(flows.actor, meeting.id)
        await flows.relay_all()
        nurture_result = await flows.result(nurture)
        conversion_result = await flows.result(conversion)
        reminders = await flows.run_of("calling-task-reminders", task)
        reminders_result = await flows.result(reminders)

    assert nurture_result.status == conversion_result.status == FlowRunStatus.COMPLETED
    assert (task.subject, task.assignee_id) == (
        "Set up a meeting with Ada Lovelace (Analytical Engines)",
        flows.support_id,
    )
    assert task.notes.startswith("Ada is Hot. Call to agree a meeting")
    assert task.customer_id is None
    assert mail_by_recipient(flows)["ada@example.com"] == [
        "Welcome, Ada",
        "Introduction: pick a time",
        "Booked: Introduction",
        "Welcome aboard, Ada",
    ]
    assert await status_of(ada) == "converted"
    assert await notifications(flows) == [
        "Ada Lovelace is Hot: time to call.",
        "A meeting with Ada Lovelace (Analytical Engines) is scheduled: send them your time slots.",
    ]
    assert await notifications(flows, flows.support_id) == []
    assert await assignments(flows, flows.support_id) == [
        "A calling task for you: Set up a meeting with Ada Lovelace (Analytical Engines)"
    ]
    # The task closed before its reminder was due: that flow ends without a word.
    assert (reminders_result.status, reminders_result.last_step) == ("completed", "done")
    # Converting made a customer, whose on-boarding starts like any other's.
    customer = await Customer.get(agency_id=flows.agency_id)
    assert (await flows.run_row("customer-onboarding", customer)).status == "pending"
    await keep_history("contact-nurture-sequence-turns-hot", nurture)
    await keep_history("contact-conversion-meeting-held", conversion)
    await keep_history("calling-task-reminders-closed-in-time", reminders)


async def test_contact_conversion_reminds_the_owner_to_send_time_slots_then_cools_down(
    flows: Flows,
) -> None:
    ada = await flows.create_contact()
    await transition_contact(flows.actor, ada.id, "mark_hot")
    await flows.relay_all()

    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        conversion = await flows.run_of("contact-conversion", ada)
        task = await support_schedules_the_call(flows, conversion, ada)
        await transition_calling_task(flows.actor, task.id, "abort")
        await flows.relay_all()
        await flows.result(nurture)
        result = await flows.result(conversion)
        await flows.result(await flows.run_of("calling-task-reminders", task))

    assert result.status == FlowRunStatus.COMPLETED
    assert await status_of(ada) == "cold"
    # The nurture run's note comes whenever that run gets to it; the conversion's in order.
    told = await notifications(flows)
    assert told.pop(told.index("Ada Lovelace is Hot: time to call.")) is not None
    assert told == [
        "A meeting with Ada Lovelace (Analytical Engines) is scheduled: send them your time slots.",
        "Reminder: Ada Lovelace (Analytical Engines) has not booked a meeting yet: send them "
        "your time slots.",
    ]
    await keep_history("contact-conversion-slots-never-booked", conversion)


async def test_contact_conversion_reminds_support_then_cools_down_a_contact_left_hot(
    flows: Flows,
) -> None:
    ada = await flows.create_contact()
    # Hot before any run started: the nurture run still gets the event, and takes it when
    # it reaches the step waiting for it.
    await transition_contact(flows.actor, ada.id, "mark_hot")
    await flows.relay_all()

    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        conversion = await flows.run_of("contact-conversion", ada)
        await flows.result(nurture)
        result = await flows.result(conversion)

    assert result.status == FlowRunStatus.COMPLETED
    assert await status_of(ada) == "cold"
    assert subjects(flows) == ["Welcome, Ada"]
    assert await notifications(flows) == ["Ada Lovelace is Hot: time to call."]
    assert await notifications(flows, flows.support_id) == [
        "Reminder: Ada Lovelace is Hot and waits for a call to set up a meeting."
    ]
    task = await CallingTask.get(contact_id=ada.id)
    assert (task.status, task.assignee_id) == ("new", flows.support_id)
    await keep_history("contact-conversion-meeting-never-booked", conversion)


async def finish_other_runs(flows: Flows, done: FlowHandle) -> None:
    """Let the runs a test started on the side (a contact's nurture) finish too: a run left in
    the middle of an activity when the worker stops holds up time skipping for later tests."""
    for row in (
        await FlowRunRow.filter(agency_id=flows.agency_id)
        .exclude(workflow_id=done.id)
        .exclude(status="pending")
    ):
        await flows.result(
            flows.client.get_workflow_handle(row.workflow_id, result_type=FlowRunResult)
        )


async def ready_to_activate(flows: Flows, customer: Customer) -> None:
    """What activation needs: billing details and a primary contact."""
    billing = {"billing_email": "accounts@example.com", "billing_address": "1 Engine Row"}
    await update_customer(flows.actor, customer.id, billing)
    charles = await flows.create_contact(first_name="Charles", emails=["charles@example.com"])
    await link_contact(flows.actor, customer.id, charles.id, "primary", True)
    await transition_customer(flows.actor, customer.id, "submit")


async def test_customer_onboarding_asks_support_for_details_and_welcomes_the_active_customer(
    flows: Flows,
) -> None:
    customer = await flows.create_customer()
    await flows.relay_all()

    async with flows.worker():
        onboarding = await flows.run_of("customer-onboarding", customer)
        await flows.reach(onboarding, "wait-for-activation")
        task = await CallingTask.get(customer_id=customer.id)
        await ready_to_activate(flows, customer)
        await transition_customer(flows.actor, customer.id, "activate")
        await flows.relay_all()
        result = await flows.result(onboarding)
        await finish_other_runs(flows, onboarding)

    assert (result.status, result.last_step) == (FlowRunStatus.COMPLETED, "done")
    assert (task.subject, task.assignee_id, task.contact_id) == (
        "Collect on-boarding details of Difference Engines",
        flows.support_id,
        None,
    )
    assert task.notes.startswith("Call Difference Engines to collect a primary contact")
    assert mail_by_recipient(flows)["accounts@example.com"] == ["Welcome, Difference Engines"]
    assert (await Customer.get(id=customer.id)).status == "active"
    assert await notifications(flows, flows.support_id) == []
    await keep_history("customer-onboarding-activated", onboarding)


async def test_customer_onboarding_reminds_support_and_escalates_to_the_relationship_manager(
    flows: Flows,
) -> None:
    customer = await flows.create_customer()
    await flows.relay_all()

    async with flows.worker():
        onboarding = await flows.run_of("customer-onboarding", customer)
        result = await flows.result(onboarding)

    assert (result.status, result.last_step) == (FlowRunStatus.COMPLETED, "done")
    reminder = (
        "Reminder: Difference Engines is not active yet. Collect their details and activate them."
    )
    assert await notifications(flows, flows.support_id) == [reminder] * 3
    assert await notifications(flows) == [
        "Difference Engines is still not active after repeated reminders to support: please "
        "step in."
    ]
    assert subjects(flows) == []
    assert (await Customer.get(id=customer.id)).status == "draft"
    await keep_history("customer-onboarding-escalated", onboarding)


async def call_scheduled_for_tomorrow(flows: Flows, subject: str) -> tuple[CallingTask, datetime]:
    """A call for support to make, scheduled a day ahead in server time, its triggers relayed."""
    contact = await flows.create_contact()
    task = await create_calling_task(
        flows.actor,
        {"subject": subject, "contact_id": contact.id, "assignee_id": flows.support_id},
    )
    due = await server_time(flows) + timedelta(days=1)
    await transition_calling_task(flows.actor, task.id, "schedule", due_at=due)
    await flows.relay_all()
    return task, due


async def test_calling_task_reminders_remind_the_assignee_then_escalate_to_a_sales_head(
    flows: Flows,
) -> None:
    task, due = await call_scheduled_for_tomorrow(flows, "Renewal call")

    async with flows.worker():
        reminders = await flows.run_of("calling-task-reminders", task)
        result = await flows.result(reminders)
        await finish_other_runs(flows, reminders)

    assert (result.status, result.last_step) == (FlowRunStatus.COMPLETED, "done")
    support = await notifications(flows, flows.support_id)
    assert support == [f'Reminder: the call "Renewal call" is due at {due.isoformat()}.']
    assert await notifications(flows, flows.head_id) == [
        f'The call "Renewal call" was due at {due.isoformat()} and has no outcome yet.'
    ]
    await keep_history("calling-task-reminders-escalated", reminders)


async def test_a_rescheduled_calling_task_is_reminded_at_its_new_time_and_not_escalated(
    flows: Flows,
) -> None:
    task, due = await call_scheduled_for_tomorrow(flows, "Demo")

    async with flows.worker():
        reminders = await flows.run_of("calling-task-reminders", task)
        await flows.reach(reminders, "before-due")
        first_timer = await reminders.query(FlowRun.next_timer)
        later = due + timedelta(days=2)
        await transition_calling_task(flows.actor, task.id, "reschedule", due_at=later)
        await flows.relay_all()
        await until_timer_moves(reminders, first_timer)
        moved_timer = await reminders.query(FlowRun.next_timer)
        await transition_calling_task(flows.actor, task.id, "complete", outcome_notes="Done.")
        await flows.relay_all()
        result = await flows.result(reminders)
        await finish_other_runs(flows, reminders)

    assert first_timer == due - timedelta(hours=1)
    assert moved_timer == later - timedelta(hours=1)
    assert (result.status, result.last_step) == (FlowRunStatus.COMPLETED, "done")
    assert await notifications(flows, flows.support_id) == []
    assert await notifications(flows, flows.head_id) == []


async def test_a_published_edit_leaves_runs_in_flight_alone_and_new_runs_use_it(
    flows: Flows,
) -> None:
    ada = await flows.create_contact()
    await flows.relay_all()

    async with flows.worker():
        first = await flows.run_of("contact-nurture", ada)
        await flows.reach(first, "wait-for-interest")

        # A sysadmin moves the sequence's days (emails on day 0, 1, 3 and 10) and rewords
        # the second email.
        await create_draft(flows.actor, "contact-nurture")
        draft = await get_draft(flows.actor, "contact-nurture")
        document = draft.document
        steps = {step["id"]: step for step in document["steps"]}
        steps["wait-for-interest"]["timeout"] = "1d"
        steps["wait-after-day-3"]["timeout"] = "2d"
        del steps["day-3"]["template"]
        steps["day-3"]["subject"] = "Still keen, {first_name}?"
        steps["day-3"]["body"] = "Hello {first_name}, shall we talk?"
        await edit_draft(flows.actor, "contact-nurture", document)
        published = await publish_draft(flows.actor, "contact-nurture")

        grace = await flows.create_contact(first_name="Grace", emails=["grace@example.com"])
        await flows.relay_all()
        second = await flows.run_of("contact-nurture", grace)
        await flows.result(first)
        await flows.result(second)

    assert published.version == 2
    assert mail_by_recipient(flows) == {
        "ada@example.com": NURTURE_SUBJECTS,
        "grace@example.com": [
            "Welcome, Grace",
            "Still keen, Grace?",
            "What others got out of it, Grace",
            "Still interested, Grace?",
        ],
    }
    assert await email_days(first) == [0, 3, 7, 14], "the run in flight kept its days"
    assert await email_days(second) == [0, 1, 3, 10]
    assert (await flows.run_row("contact-nurture", ada)).version == 1
    assert (await flows.run_row("contact-nurture", grace)).version == 2


CONVERT_NOW = {
    "key": "convert-now",
    "name": "Convert now",
    "record_type": "contact",
    "trigger": {"manual": True},
    "steps": [
        {"id": "convert", "type": "transition", "event": "convert"},
        {"id": "thank", "type": "send_email", "to": "emails.0", "subject": "Thanks", "body": "!"},
    ],
}


HAND_OVER = {
    "key": "hand-over",
    "name": "Hand over",
    "record_type": "customer",
    "trigger": {"manual": True},
    "steps": [
        {"id": "to-support", "type": "assign", "to": "role:customer_support", "as": "operations"},
        {
            "id": "intro",
            "type": "create_calling_task",
            "about": "customer",
            "assignee": "owner",
            "title": "Introduce support to {name}",
            "due_in": "1h",
        },
        {"id": "tell", "type": "notify", "to": "assignee:intro", "message": "Call {name}."},
    ],
}


async def test_a_flow_assigns_a_customer_to_a_role_and_calls_through_its_owner(
    flows: Flows,
) -> None:
    await create_flow(flows.actor, HAND_OVER)
    await publish_draft(flows.actor, "hand-over")
    customer = await flows.create_customer()
    await start_flow_manually(flows.actor, "hand-over", str(customer.id))
    await flows.relay_all()

    async with flows.worker():
        run = await flows.run_of("hand-over", customer)
        result = await flows.result(run)
        await finish_other_runs(flows, run)

    assert result.status == FlowRunStatus.COMPLETED
    changed = await Customer.get(id=customer.id)
    assert (changed.owner_id, changed.operations_user_id) == (flows.owner_id, flows.support_id)
    intro = await CallingTask.get(
        customer_id=customer.id, subject="Introduce support to Difference Engines"
    )
    assert intro.assignee_id == flows.owner_id
    assert "Call Difference Engines." in await notifications(flows)


async def test_a_refused_step_stalls_the_run_until_a_retry_after_the_record_is_fixed(
    flows: Flows,
) -> None:
    await create_flow(flows.actor, CONVERT_NOW)
    await publish_draft(flows.actor, "convert-now")
    ada = await flows.create_contact()
    run = await start_flow_manually(flows.actor, "convert-now", str(ada.id))
    await flows.relay_all()

    async with flows.worker():
        handle = await flows.run_of("convert-now", ada)
        await flows.reach(handle, "convert", FlowRunStatus.STALLED)
        stalled = await flows.run_row_when("convert-now", ada, "stalled")
        await transition_contact(flows.actor, ada.id, "mark_hot")  # now CONVERT is allowed
        await request_step_retry(flows.actor, run.id)
        await flows.relay_all()
        result = await flows.result(handle)

    assert stalled.status == "stalled"
    assert stalled.last_error.startswith("convert was not applied: INVALID_TRANSITION:")
    assert result.status == FlowRunStatus.COMPLETED
    assert await status_of(ada) == "converted"
    assert subjects(flows) == ["Welcome, Ada", "Thanks"]  # the welcome is the nurture flow's
    finished = await flows.run_row("convert-now", ada)
    assert (finished.status, finished.last_error) == ("completed", "")


async def test_run_progress_is_published_as_events_of_the_run(flows: Flows) -> None:
    """Subscribers and webhooks follow flow runs through the event log like any record."""
    ada = await flows.create_contact()
    await flows.relay_all()

    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        await flows.reach(nurture, "wait-for-interest")
        row = await flows.run_row_when("contact-nurture", ada, "waiting")
        await request_cancel(flows.actor, row.id)
        await flows.relay_all()
        await flows.result(nurture)

    events = await Event.filter(aggregate_type="flow_run", aggregate_id=str(row.id)).order_by("id")
    progressed = [e.payload for e in events if e.type == "flow_run.progressed"]
    assert progressed[0]["record_id"] == str(ada.id)
    assert progressed[0]["flow_key"] == "contact-nurture"
    assert "waiting" in [p["status"] for p in progressed]
    assert progressed[-1]["status"] == "cancelled"


async def test_a_cancelled_run_stops_where_it_is(flows: Flows) -> None:
    ada = await flows.create_contact()
    await flows.relay_all()

    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        await flows.reach(nurture, "wait-for-interest")
        row = await flows.run_row("contact-nurture", ada)
        await request_cancel(flows.actor, row.id)
        await flows.relay_all()
        result = await flows.result(nurture)

    assert (result.status, result.last_step) == (FlowRunStatus.CANCELLED, "wait-for-interest")
    assert subjects(flows) == ["Welcome, Ada"]
    assert (await flows.run_row("contact-nurture", ada)).status == "cancelled"


async def test_a_stalled_run_nobody_retries_fails_after_thirty_days(flows: Flows) -> None:
    await create_flow(flows.actor, CONVERT_NOW)
    await publish_draft(flows.actor, "convert-now")
    ada = await flows.create_contact()
    # The contact's nurture (started by its creation) is cancelled: only the stalled run runs.
    await cancel_run(flows.actor, (await flows.run_row("contact-nurture", ada)).id)
    await start_flow_manually(flows.actor, "convert-now", str(ada.id))
    await flows.relay_all()

    async with flows.worker():
        await flows.run_row_when("contact-nurture", ada, "cancelled")
        handle = await flows.run_of("convert-now", ada)
        with pytest.raises(WorkflowFailureError) as failed:
            await flows.result(handle)

    assert "step 'convert' failed and was not retried" in str(failed.value.cause)
    assert (await flows.run_row("convert-now", ada)).status == "failed"


async def test_a_worker_stopped_mid_flow_and_restarted_finishes_without_repeating_a_step(
    db: OpenDatabase,
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    smtp_server: SmtpServer,
) -> None:
    # The real dev server: the restarted worker rebuilds the run from its history.
    flows = await prepare_flows(temporal_dev_env.client, task_queue, smtp_server, skips_time=False)
    ada = await flows.create_contact()
    await flows.relay_all()
    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        await flows.reach(nurture, "wait-for-interest")
    # No worker now: the run waits on the server while the contact turns hot.
    await transition_contact(flows.actor, ada.id, "mark_hot")
    await flows.relay_all()
    async with flows.worker():
        result = await flows.result(nurture)
    history = await nurture.fetch_history()

    assert result.status == FlowRunStatus.COMPLETED
    assert subjects(flows) == ["Welcome, Ada"], "the welcome email was sent again"
    scheduled = [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled.count("send_flow_message") == 1
    assert scheduled.count("notify_user") == 1
    assert await Notification.filter(message="Ada Lovelace is Hot: time to call.").count() == 1
