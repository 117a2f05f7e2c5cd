"""The default flows end to end on the time-skipping server: days of waiting pass in seconds.

Contacts change through the domain service, the relay delivers the outbox, a real worker runs
FlowRun and its activities on the test's database, and mail reaches a real SMTP server.
These run on SQLite only: the database behaviour they rely on (outbox rows, step effects)
is proven on both backends in test_flow_triggers.py and test_flow_activities.py.

With CRM_RECORD_FLOW_HISTORIES=1 each default-flow test also writes its run histories to
tests/replay/histories/, which the replay tests replay against the current workflow code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from db.contacts import Contact
from db.events import Event
from db.notifications import Notification
from domain.contacts import transition_contact
from domain.flow_runs import request_cancel, request_step_retry
from domain.flows.definitions import FlowRunStatus
from domain.flows.service import (
    create_draft,
    create_flow,
    edit_draft,
    get_draft,
    publish_draft,
    start_flow_manually,
)
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.flows import FlowHandle, Flows, end_runs, prepare_flows
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)

HISTORIES = Path(__file__).resolve().parents[1] / "replay" / "histories"


async def keep_history(name: str, handle: FlowHandle) -> None:
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


async def notifications(flows: Flows) -> list[str]:
    found = await Notification.filter(user_id=flows.owner_id).order_by("id")
    return [notification.message for notification in found]


async def status_of(contact: Contact) -> str:
    return (await Contact.get(id=contact.id)).status


async def test_contact_nurture_follows_up_then_cools_down_a_contact_who_stays_new(
    flows: Flows,
) -> None:
    ada = await flows.create_contact()
    await flows.relay_all()

    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        result = await flows.result(nurture)

    assert result.status == FlowRunStatus.COMPLETED
    assert subjects(flows) == ["Welcome, Ada", "Still interested, Ada?"]
    assert [m.rcpt_tos for m in flows.smtp.messages] == [["ada@example.com"]] * 2
    assert "Hello Ada," in flows.smtp.messages[0].message.get_content()
    assert "glad to help Analytical Engines" in flows.smtp.messages[1].message.get_content()
    assert await status_of(ada) == "cold"
    assert await notifications(flows) == [
        "Ada Lovelace did not answer the follow-up and is now Cold."
    ]
    row = await flows.run_row("contact-nurture", ada)
    assert (row.status, row.current_step, row.version) == ("completed", "done", 1)
    assert row.finished_at is not None
    await keep_history("contact-nurture-cools-down", nurture)


async def test_a_contact_turning_hot_ends_nurture_and_converting_it_sends_a_welcome(
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
        await flows.reach(conversion, "wait-for-conversion")
        await transition_contact(flows.actor, ada.id, "convert")
        await flows.relay_all()
        nurture_result = await flows.result(nurture)
        conversion_result = await flows.result(conversion)

    assert nurture_result.status == conversion_result.status == FlowRunStatus.COMPLETED
    assert subjects(flows) == ["Welcome, Ada", "Welcome aboard, Ada"]
    assert await status_of(ada) == "converted"
    assert await notifications(flows) == [
        "Ada Lovelace is Hot: time to call.",
        "Ada Lovelace (Analytical Engines) is Hot: call and offer a meeting.",
    ]
    await keep_history("contact-nurture-turns-hot", nurture)
    await keep_history("contact-conversion-converts", conversion)


async def test_contact_conversion_reminds_the_owner_then_cools_down_a_contact_left_hot(
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
    # The two runs go side by side, so their notifications may come in either order.
    assert sorted(await notifications(flows)) == [
        "Ada Lovelace (Analytical Engines) is Hot: call and offer a meeting.",
        "Ada Lovelace is Hot: time to call.",
        "Reminder: Ada Lovelace is Hot and still waiting for your call.",
    ]
    await keep_history("contact-conversion-cools-down", conversion)


async def test_a_published_edit_leaves_runs_in_flight_alone_and_new_runs_use_it(
    flows: Flows,
) -> None:
    ada = await flows.create_contact()
    await flows.relay_all()

    async with flows.worker():
        first = await flows.run_of("contact-nurture", ada)
        await flows.reach(first, "wait-for-interest")

        await create_draft(flows.actor, "contact-nurture")
        draft = await get_draft(flows.actor, "contact-nurture")
        document = draft.document
        follow_up = next(s for s in document["steps"] if s["id"] == "follow-up")
        follow_up["subject"] = "Still keen, {first_name}?"
        await edit_draft(flows.actor, "contact-nurture", document)
        published = await publish_draft(flows.actor, "contact-nurture")

        grace = await flows.create_contact(first_name="Grace", emails=["grace@example.com"])
        await flows.relay_all()
        second = await flows.run_of("contact-nurture", grace)
        await flows.result(first)
        await flows.result(second)

    assert published.version == 2
    assert mail_by_recipient(flows) == {
        "ada@example.com": ["Welcome, Ada", "Still interested, Ada?"],
        "grace@example.com": ["Welcome, Grace", "Still keen, Grace?"],
    }
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
    await start_flow_manually(flows.actor, "convert-now", str(ada.id))
    await flows.relay_all()

    async with flows.worker():
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
    try:
        async with flows.worker():
            nurture = await flows.run_of("contact-nurture", ada)
            await flows.reach(nurture, "wait-for-interest")
        # No worker now: the run waits on the server while the contact turns hot.
        await transition_contact(flows.actor, ada.id, "mark_hot")
        await flows.relay_all()
        async with flows.worker():
            result = await flows.result(nurture)
        history = await nurture.fetch_history()
    finally:
        await end_runs(flows)

    assert result.status == FlowRunStatus.COMPLETED
    assert subjects(flows) == ["Welcome, Ada"], "the welcome email was sent again"
    scheduled = [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled.count("send_email") == 1
    assert scheduled.count("notify_user") == 1
    assert await Notification.filter(message="Ada Lovelace is Hot: time to call.").count() == 1
