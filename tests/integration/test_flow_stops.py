"""Runs that stop early: `stop_when` on the time-skipping server, with the default nurture
sequence and with flows written for the test.

Each condition is the event the rest of the system records (a reply is the `email.received`
event inbound email appends, here also through its real SMTP path; a consent change goes
through the preference service), relayed
to the run like any other, and the run ends at once, whatever step it is in. SQLite only, as
test_flow_runs.py says why; which runs the events reach is proven on both databases in
test_flow_triggers.py.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from db.contacts import Contact
from db.outbox import OutboxMessage
from domain.calling_tasks import create_calling_task, transition_calling_task
from domain.contacts import transition_contact
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
from domain.message_preferences import update_preferences
from domain.timeline import EntryKind, timeline
from tests.fixtures.flows import FlowHandle, Flows, record_reply
from tests.integration.test_flow_runs import (
    NURTURE_SUBJECTS,
    email_days,
    finish_other_runs,
    keep_history,
    mail_by_recipient,
    notifications,
    subjects,
)
from tests.integration.test_inbound_email import Inbound, mail
from tests.integration.test_inbound_email import inbound as inbound  # the fixture
from workflows.flow_run import FlowRun

pytestmark = pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)

NURTURE = "contact-nurture"


async def complete_a_call_about(flows: Flows, contact: Contact) -> None:
    task = await create_calling_task(
        flows.actor, {"subject": "Call Ada", "contact_id": contact.id, "assignee_id": None}
    )
    await transition_calling_task(flows.actor, task.id, "complete", outcome_notes="Talked.")


async def nurture_at(flows: Flows, step_id: str) -> tuple[Contact, FlowHandle]:
    """A new contact whose nurture run waits at a step (the worker must be running)."""
    ada = await flows.create_contact()
    await flows.relay_all()
    nurture = await flows.run_of(NURTURE, ada)
    await flows.reach(nurture, step_id)
    return ada, nurture


async def publish_quick_nurture(flows: Flows) -> None:
    """The nurture with its first wait a second long: a test reaches the day-3 email and the
    wait after it without skipping time."""
    await create_draft(flows.actor, NURTURE)
    document = (await get_draft(flows.actor, NURTURE)).document
    next(s for s in document["steps"] if s["id"] == "wait-for-interest")["timeout"] = "1s"
    await edit_draft(flows.actor, NURTURE, document)
    await publish_draft(flows.actor, NURTURE)


async def stopped_entries(flows: Flows, contact: Contact) -> list[tuple[str, str, str]]:
    """(flow, status, reason) of the contact's timeline entries about stopped runs."""
    page = await timeline(flows.actor, "contact", contact.id, 50)
    return [
        (entry.item.flow_key, entry.item.status, entry.item.stop_reason)
        for entry in page.entries
        if entry.kind is EntryKind.FLOW_STOPPED
    ]


async def test_a_reply_stops_the_nurture_sequence_in_its_first_wait_and_the_timeline_says_why(
    flows: Flows,
) -> None:
    async with flows.worker():
        ada, nurture = await nurture_at(flows, "wait-for-interest")
        await record_reply(flows.actor, ada.id)
        await flows.relay_all()
        result = await flows.result(nurture)

    assert (result.status, result.last_step, result.stop_reason) == (
        FlowRunStatus.STOPPED,
        "wait-for-interest",
        "replied",
    )
    assert subjects(flows) == ["Welcome, Ada"]
    row = await flows.run_row(NURTURE, ada)
    assert (row.status, row.stop_reason, row.current_step) == (
        "stopped",
        "replied",
        "wait-for-interest",
    )
    assert row.finished_at is not None
    assert await stopped_entries(flows, ada) == [(NURTURE, "stopped", "replied")]
    assert await notifications(flows) == []
    await keep_history("contact-nurture-sequence-stopped-by-reply", nurture)


@pytest.mark.parametrize(
    ("condition", "stop"),
    [
        ("unsubscribed", "opt_out"),
        ("calling_task_done", "call_done"),
        ("not_interested", "not_interested"),
    ],
)
async def test_the_nurture_sequence_stops_after_its_second_email_on_each_condition(
    flows: Flows, condition: str, stop: str
) -> None:
    await publish_quick_nurture(flows)

    async with flows.worker():
        ada, nurture = await nurture_at(flows, "wait-after-day-3")
        if stop == "opt_out":
            await update_preferences(
                flows.actor, "contact", ada.id, {"receives": ["transactional"]}
            )
        elif stop == "call_done":
            await complete_a_call_about(flows, ada)
        else:
            await transition_contact(flows.actor, ada.id, "mark_not_interested")
        await flows.relay_all()
        result = await flows.result(nurture)

    assert (result.status, result.last_step, result.stop_reason) == (
        FlowRunStatus.STOPPED,
        "wait-after-day-3",
        condition,
    )
    assert subjects(flows) == NURTURE_SUBJECTS[:2]
    assert (await flows.run_row(NURTURE, ada)).stop_reason == condition
    assert await stopped_entries(flows, ada) == [(NURTURE, "stopped", condition)]


async def test_unrelated_events_do_not_stop_the_nurture_sequence(flows: Flows) -> None:
    async with flows.worker():
        ada, nurture = await nurture_at(flows, "wait-for-interest")
        grace = await flows.create_contact(first_name="Grace", emails=["grace@example.com"])
        await cancel_run(flows.actor, (await flows.run_row(NURTURE, grace)).id)
        # Out of greetings only (the sequence sends sales emails), a call about Ada aborted,
        # and Grace's reply: none of them is a stop condition of Ada's run.
        await update_preferences(
            flows.actor, "contact", ada.id, {"receives": ["transactional", "sales", "marketing"]}
        )
        task = await create_calling_task(
            flows.actor, {"subject": "Call Ada", "contact_id": ada.id, "assignee_id": None}
        )
        await transition_calling_task(flows.actor, task.id, "abort")
        await record_reply(flows.actor, grace.id, "grace@example.com")
        await flows.relay_all()
        result = await flows.result(nurture)
        await finish_other_runs(flows, nurture)

    assert (result.status, result.stop_reason) == (FlowRunStatus.COMPLETED, "")
    assert mail_by_recipient(flows)["ada@example.com"] == NURTURE_SUBJECTS
    assert await email_days(nurture) == [0, 3, 7, 14]
    assert await stopped_entries(flows, ada) == []


def waiting_flow(stop_when: list[str]) -> dict[str, Any]:
    """A manual contact flow: a plain wait of a week, then an email, stopping on `stop_when`."""
    return {
        "key": "week-later",
        "name": "A week later",
        "record_type": "contact",
        "trigger": {"manual": True},
        "stop_when": stop_when,
        "steps": [
            {"id": "pause", "type": "wait", "duration": "1w"},
            {"id": "hello", "type": "send_email", "to": "emails.0", "subject": "Hi", "body": "!"},
        ],
    }


async def manual_run(flows: Flows, contact_id: UUID) -> FlowHandle:
    """The contact's nurture cancelled, then the week-later flow started on it."""
    await cancel_run(
        flows.actor, (await flows.run_row(NURTURE, await Contact.get(id=contact_id))).id
    )
    await start_flow_manually(flows.actor, "week-later", str(contact_id))
    await flows.relay_all()
    return await flows.run_of("week-later", await Contact.get(id=contact_id))


async def test_a_contact_converted_in_the_middle_of_a_plain_wait_stops_the_run(
    flows: Flows,
) -> None:
    await create_flow(flows.actor, waiting_flow(["replied", "converted"]))
    await publish_draft(flows.actor, "week-later")
    ada = await flows.create_contact()

    async with flows.worker():
        run = await manual_run(flows, ada.id)
        await flows.reach(run, "pause")
        await transition_contact(flows.actor, ada.id, "mark_hot")
        # Hot starts the conversion flow; only the week-later run matters here.
        await cancel_run(flows.actor, (await flows.run_row("contact-conversion", ada)).id)
        await transition_contact(flows.actor, ada.id, "convert")
        await flows.relay_all()
        result = await flows.result(run)
        await finish_other_runs(flows, run)

    assert (result.status, result.last_step, result.stop_reason) == (
        FlowRunStatus.STOPPED,
        "pause",
        "converted",
    )
    assert "Hi" not in subjects(flows)
    assert await stopped_entries(flows, ada) == [("week-later", "stopped", "converted")]


async def test_a_run_without_the_condition_listed_goes_on(flows: Flows) -> None:
    await create_flow(flows.actor, waiting_flow(["converted"]))
    await publish_draft(flows.actor, "week-later")
    ada = await flows.create_contact()

    async with flows.worker():
        run = await manual_run(flows, ada.id)
        await flows.reach(run, "pause")
        await record_reply(flows.actor, ada.id)  # not a stop condition of this flow
        await flows.relay_all()
        result = await flows.result(run)
        await finish_other_runs(flows, run)

    assert (result.status, result.stop_reason) == (FlowRunStatus.COMPLETED, "")
    assert "Hi" in subjects(flows)


async def test_a_reply_stops_a_run_stalled_on_a_refused_step(flows: Flows) -> None:
    stalls = {
        **waiting_flow(["replied"]),
        "steps": [{"id": "convert", "type": "transition", "event": "convert"}],
    }
    await create_flow(flows.actor, stalls)
    await publish_draft(flows.actor, "week-later")
    ada = await flows.create_contact()

    async with flows.worker():
        run = await manual_run(flows, ada.id)
        await flows.reach(run, "convert", FlowRunStatus.STALLED)  # a New contact: refused
        await record_reply(flows.actor, ada.id)
        await flows.relay_all()
        result = await flows.result(run)

    assert (result.status, result.last_step, result.stop_reason) == (
        FlowRunStatus.STOPPED,
        "convert",
        "replied",
    )
    row = await flows.run_row("week-later", ada)
    assert (row.status, row.stop_reason) == ("stopped", "replied")
    assert row.last_error.startswith("convert was not applied: INVALID_TRANSITION:")


# With inbound email over real SMTP: the event a reply makes is the one the run stops on.


async def test_a_reply_to_the_welcome_email_over_smtp_stops_the_nurture(inbound: Inbound) -> None:
    flows = inbound.flows
    ada = await flows.create_contact()
    await flows.relay_all()
    nurture = await flows.run_of(NURTURE, ada)
    await flows.reach(nurture, "wait-for-interest")
    welcome = flows.smtp.messages[0].message
    assert welcome["Subject"] == "Welcome, Ada"

    answer = mail("ada@example.com", welcome["Reply-To"], subject="Re: Welcome, Ada", body="Yes!")
    await inbound.send(answer, "ada@example.com", [welcome["Reply-To"]])
    (email,) = await inbound.processed()
    await flows.relay_all()
    result = await flows.result(nurture)

    assert email.outcome == "reply"
    assert (result.status, result.stop_reason) == (FlowRunStatus.STOPPED, "replied")
    assert subjects(flows) == ["Welcome, Ada"]


async def test_the_mail_that_makes_a_new_contact_does_not_stop_its_nurture(
    inbound: Inbound,
) -> None:
    flows = inbound.flows
    first = mail("jane.doe@widgets.example", inbound.address(), body="Forty desks, please.")
    await inbound.send(first, "jane.doe@widgets.example")
    (email,) = await inbound.processed()
    jane = await Contact.get(id=email.contact_id)
    nurture = await flows.run_of(NURTURE, jane)
    await flows.reach(nurture, "wait-for-interest")
    row = await flows.run_row(NURTURE, jane)
    told = await OutboxMessage.filter(workflow_id=row.workflow_id, kind="signal_flow")

    assert email.outcome == "new_lead"
    assert told == [], "the run heard of the message that made its contact"
    assert (await nurture.query(FlowRun.progress)).stop_reason == ""
    await cancel_run(flows.actor, row.id)
    await flows.relay_all()
    assert (await flows.result(nurture)).status == FlowRunStatus.CANCELLED
