"""Flow starts and signals are written to the outbox in the same transaction as their cause."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from crm.flow_files import load_default_flows
from db.agencies import Agency
from db.flow_runs import FlowRun
from db.leads import Lead
from db.outbox import OutboxMessage
from db.users import User
from domain.actors import Actor
from domain.calling_tasks import create_calling_task, delete_calling_task, transition_calling_task
from domain.contacts import create_contact, delete_contact, transition_contact, update_contact
from domain.customers import create_customer, transition_customer
from domain.errors import DomainError
from domain.events import append_event
from domain.flow_runs import request_step_retry
from domain.flow_triggers import EMAIL_RECEIVED, FIRST_MESSAGE_OUTCOME
from domain.flows.service import (
    create_draft,
    create_flow,
    publish_draft,
    published_version,
    seed_default_flows,
)
from domain.inbound_routing import RECEIVED_EVENT, Outcome
from domain.leads import create_lead, delete_lead, transition_lead
from domain.meetings import book_meeting, propose_meeting, slots_of
from domain.message_preferences import update_preferences
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.flows import DEFAULT_FLOWS, record_reply


class Rollback(Exception):
    """Raised inside a transaction to abandon it."""


@pytest.fixture
async def agency(db: OpenDatabase) -> Actor:
    """An agency with the default flows published."""
    agency_id = uuid.uuid4()
    await seed_default_flows(agency_id, load_default_flows(DEFAULT_FLOWS))
    return Actor.system(agency_id, "test")


async def outbox(actor: Actor) -> list[tuple[str, str, str | None]]:
    """(kind, flow key, signal) of each message, oldest first."""
    messages = await OutboxMessage.filter(agency_id=actor.agency_id).order_by("id")
    return [(m.kind, m.workflow_id.split(":")[1], m.payload.get("signal")) for m in messages]


async def test_creating_a_contact_writes_a_pending_run_and_its_start_in_the_outbox(
    agency: Actor,
) -> None:
    ada = await create_contact(agency, {"first_name": "Ada", "emails": ["ada@example.com"]})

    [run] = await FlowRun.filter(agency_id=agency.agency_id)
    [message] = await OutboxMessage.filter(agency_id=agency.agency_id)
    assert (run.flow_key, run.record_type, run.record_id) == (
        "contact-nurture",
        "contact",
        str(ada.id),
    )
    assert (run.status, run.version) == ("pending", 1)
    # What its waits wait for, and the events of its stop conditions.
    assert run.listens_to == [
        "calling_task.transitioned",
        "contact.transitioned",
        "email.received",
        "message_preference.updated",
    ]
    assert run.workflow_id == f"flow:contact-nurture:contact:{ada.id}:{run.trigger_event_id}"
    assert (message.kind, message.workflow_id, message.status) == (
        "start_flow",
        run.workflow_id,
        "pending",
    )
    current = await published_version(agency, "contact-nurture")
    assert current is not None
    assert message.payload["definition"] == current.document, "the run is not pinned"
    assert message.payload["record_id"] == str(ada.id)


async def test_a_change_that_rolls_back_leaves_no_run_and_no_outbox_message(
    agency: Actor,
) -> None:
    async def create_then_fail() -> None:
        async with in_transaction() as connection:
            await append_event(
                agency, "contact.created", "contact", str(uuid.uuid4()), {}, connection
            )
            raise Rollback

    with pytest.raises(Rollback):
        await create_then_fail()

    assert await FlowRun.filter(agency_id=agency.agency_id).count() == 0
    assert await OutboxMessage.filter(agency_id=agency.agency_id).count() == 0


async def test_turning_hot_signals_the_waiting_run_and_starts_the_conversion_flow(
    agency: Actor,
) -> None:
    ada = await create_contact(agency, {"first_name": "Ada"})

    await transition_contact(agency, ada.id, "mark_hot")

    assert await outbox(agency) == [
        ("start_flow", "contact-nurture", None),
        ("signal_flow", "contact-nurture", "record_event"),
        ("start_flow", "contact-conversion", None),
    ]
    signal = await OutboxMessage.filter(kind="signal_flow").first()
    assert signal is not None
    assert signal.payload["argument"]["type"] == "contact.transitioned"
    assert signal.payload["argument"]["status"] == "hot"


async def test_a_trigger_while_the_flow_runs_on_the_record_starts_nothing_more(
    agency: Actor,
) -> None:
    ada = await create_contact(agency, {"first_name": "Ada"})
    await transition_contact(agency, ada.id, "mark_hot")
    await transition_contact(agency, ada.id, "mark_cold")

    await transition_contact(agency, ada.id, "mark_hot")  # conversion is still active

    runs = await FlowRun.filter(agency_id=agency.agency_id, flow_key="contact-conversion")
    assert len(runs) == 1


async def test_updates_reach_only_runs_that_wait_for_them(agency: Actor) -> None:
    ada = await create_contact(agency, {"first_name": "Ada"})

    await update_contact(agency, ada.id, {"job_title": "Analyst"})

    assert await outbox(agency) == [("start_flow", "contact-nurture", None)]


async def test_deleting_a_contact_cancels_its_active_runs(agency: Actor) -> None:
    ada = await create_contact(agency, {"first_name": "Ada"})

    await delete_contact(agency, ada.id)

    assert await outbox(agency) == [
        ("start_flow", "contact-nurture", None),
        ("signal_flow", "contact-nurture", "cancel"),
    ]


async def test_a_calling_task_event_reaches_the_runs_of_its_contact_but_never_cancels_them(
    agency: Actor,
) -> None:
    ada = await create_contact(agency, {"first_name": "Ada"})
    await transition_contact(agency, ada.id, "mark_hot")  # conversion waits on its call
    task = await create_calling_task(
        agency, {"subject": "Call Ada", "contact_id": ada.id, "assignee_id": None}
    )
    before = len(await outbox(agency))

    await transition_calling_task(
        agency, task.id, "schedule", due_at=datetime.now(UTC) + timedelta(days=1)
    )
    await delete_calling_task(agency, task.id)

    after = (await outbox(agency))[before:]
    # Both of the contact's runs hear of it: the conversion waits on the call, the nurture
    # stops when a call about the contact is done.
    assert sorted(after[:2]) == [
        ("signal_flow", "contact-conversion", "record_event"),
        ("signal_flow", "contact-nurture", "record_event"),
    ]
    assert after[2:] == [
        ("start_flow", "calling-task-reminders", None),
        ("signal_flow", "calling-task-reminders", "cancel"),  # the task's own run
    ]
    signal = await OutboxMessage.filter(agency_id=agency.agency_id, kind="signal_flow").order_by(
        "-id"
    )
    argument = next(
        m
        for m in signal
        if m.payload["signal"] == "record_event"
        and m.payload["argument"]["type"] == "calling_task.transitioned"
    ).payload["argument"]
    assert argument == {
        "id": argument["id"],
        "type": "calling_task.transitioned",
        "status": "scheduled",
        "record_type": "calling_task",
        "record_id": str(task.id),
    }
    conversion = await FlowRun.get(agency_id=agency.agency_id, flow_key="contact-conversion")
    assert conversion.listens_to == [
        "calling_task.transitioned",
        "meeting.booked",
        "meeting.held",
    ]


def notify_owner_flow(key: str, record_type: str, trigger: dict[str, str]) -> dict[str, Any]:
    return {
        "key": key,
        "name": key,
        "record_type": record_type,
        "trigger": trigger,
        "steps": [{"id": "tell", "type": "notify", "to": "owner", "message": "{status}"}],
    }


async def test_customer_and_calling_task_events_trigger_their_flows(agency: Actor) -> None:
    flows = [
        notify_owner_flow(
            "new-customer", "customer", {"event": "customer.transitioned", "status": "new"}
        ),
        notify_owner_flow("new-call", "calling_task", {"event": "calling_task.created"}),
    ]
    for flow in flows:
        await create_flow(agency, flow)
        await publish_draft(agency, flow["key"])
    customer = await create_customer(agency, {"name": "Difference Engines"})
    after_creation = await outbox(agency)

    task = await create_calling_task(
        agency, {"subject": "Call", "customer_id": customer.id, "assignee_id": None}
    )
    await transition_customer(agency, customer.id, "submit")  # draft -> new

    assert after_creation == [("start_flow", "customer-onboarding", None)]
    assert (await outbox(agency))[1:] == [
        ("start_flow", "new-call", None),
        ("signal_flow", "customer-onboarding", "record_event"),  # it waits for activation
        ("start_flow", "new-customer", None),
    ]
    runs = await FlowRun.filter(agency_id=agency.agency_id, flow_key__startswith="new-")
    assert {(run.flow_key, run.record_type, run.record_id) for run in runs} == {
        ("new-call", "calling_task", str(task.id)),
        ("new-customer", "customer", str(customer.id)),
    }


async def test_flows_of_another_agency_never_start(agency: Actor) -> None:
    other = Actor.system(uuid.uuid4(), "test")  # has no flows published

    await create_contact(other, {"first_name": "Ada"})

    assert await FlowRun.filter(agency_id=other.agency_id).count() == 0
    assert await OutboxMessage.filter(agency_id=other.agency_id).count() == 0


async def test_a_draft_does_not_trigger_anything_by_itself(agency: Actor) -> None:
    await create_draft(agency, "contact-nurture")

    await create_contact(agency, {"first_name": "Ada"})

    assert await FlowRun.filter(agency_id=agency.agency_id).count() == 1  # from the published one


async def test_only_a_stalled_run_can_be_retried(agency: Actor) -> None:
    await create_contact(agency, {"first_name": "Ada"})
    [run] = await FlowRun.filter(agency_id=agency.agency_id)

    with pytest.raises(DomainError) as refused:
        await request_step_retry(agency, run.id)

    assert refused.value.code == "NOT_STALLED"


async def test_lead_and_deal_events_start_their_flows_and_calls_about_a_lead_reach_its_runs(
    agency: Actor,
) -> None:
    waits_for_a_call: dict[str, Any] = {
        "key": "lead-call",
        "name": "Lead call",
        "record_type": "lead",
        "trigger": {"event": "lead.created"},
        "steps": [
            {
                "id": "called",
                "type": "wait_for_signal",
                "event": "calling_task.transitioned",
                "timeout": "3d",
                "on_timeout": "done",
            },
            {"id": "done", "type": "end"},
        ],
    }
    for flow in (
        waits_for_a_call,
        notify_owner_flow("new-deal", "deal", {"event": "deal.created"}),
    ):
        await create_flow(agency, flow)
        await publish_draft(agency, flow["key"])
    ada = await create_contact(agency, {"first_name": "Ada"})
    lead = await create_lead(
        agency, {"title": "Engines", "services": ["install"], "contact_id": ada.id}
    )
    task = await create_calling_task(
        agency, {"subject": "Call", "lead_id": lead.id, "assignee_id": None}
    )
    before = len(await outbox(agency))

    await transition_calling_task(
        agency, task.id, "schedule", due_at=datetime.now(UTC) + timedelta(days=1)
    )
    await transition_lead(agency, lead.id, "qualify")
    await transition_lead(agency, lead.id, "convert")  # creates the deal
    await delete_lead(agency, lead.id)

    assert (await outbox(agency))[before:] == [
        # The call about the lead calls its contact: Ada's nurture hears of it too.
        ("signal_flow", "contact-nurture", "record_event"),
        ("signal_flow", "lead-call", "record_event"),  # the call about the lead
        ("start_flow", "calling-task-reminders", None),
        ("start_flow", "new-deal", None),
        ("signal_flow", "lead-call", "cancel"),  # the lead is gone
    ]
    deal_run = await FlowRun.get(agency_id=agency.agency_id, flow_key="new-deal")
    deal_id = (await Lead.get(id=lead.id)).deal_id
    assert (deal_run.record_type, deal_run.record_id) == ("deal", str(deal_id))


async def test_a_meeting_event_reaches_the_runs_of_its_contact(agency: Actor) -> None:
    await Agency.create(id=agency.agency_id, name="Acme", slug=f"acme-{agency.agency_id.hex[:8]}")
    owner = await User.create(
        agency_id=agency.agency_id,
        email=f"olive-{uuid.uuid4().hex[:8]}@example.com",
        name="Olive Owner",
        password_hash="-",
        roles=["sales_person"],
    )
    ada = await create_contact(
        agency, {"first_name": "Ada", "emails": ["ada@example.com"], "owner_id": owner.id}
    )
    await transition_contact(agency, ada.id, "mark_hot")  # conversion waits for meetings too
    meeting = await propose_meeting(
        agency,
        {
            "contact_id": ada.id,
            "owner_id": owner.id,
            "title": "Introduction",
            "slots": [datetime.now(UTC) + timedelta(days=2)],
            "duration_minutes": 30,
        },
    )
    conversion = await FlowRun.get(agency_id=agency.agency_id, flow_key="contact-conversion")

    await book_meeting(meeting.id, (await slots_of(meeting))[0].id)

    told = await OutboxMessage.filter(
        agency_id=agency.agency_id, kind="signal_flow", workflow_id=conversion.workflow_id
    ).order_by("id")
    assert [m.payload["argument"]["type"] for m in told] == ["meeting.booked"]  # not .proposed
    assert told[0].payload["argument"] == {
        "id": told[0].payload["argument"]["id"],
        "type": "meeting.booked",
        "status": "booked",
        "record_type": "meeting",
        "record_id": str(meeting.id),
    }


async def signals_of(actor: Actor, flow_key: str) -> list[dict[str, Any]]:
    """The record events the outbox holds for a flow's runs, oldest first."""
    messages = await OutboxMessage.filter(
        agency_id=actor.agency_id, kind="signal_flow", workflow_id__contains=f":{flow_key}:"
    ).order_by("id")
    return [m.payload["argument"] for m in messages if m.payload["signal"] == "record_event"]


async def test_a_reply_and_a_consent_change_reach_the_contacts_runs_that_stop_on_them(
    agency: Actor,
) -> None:
    ada = await create_contact(agency, {"first_name": "Ada", "emails": ["ada@example.com"]})
    grace = await create_contact(agency, {"first_name": "Grace"})

    await record_reply(agency, ada.id)
    await update_preferences(agency, "contact", ada.id, {"receives": ["transactional"]})
    await update_preferences(agency, "contact", ada.id, {"channel": "phone"})

    ada_run = await FlowRun.get(agency_id=agency.agency_id, record_id=str(ada.id))
    grace_run = await FlowRun.get(agency_id=agency.agency_id, record_id=str(grace.id))
    messages = await OutboxMessage.filter(agency_id=agency.agency_id, kind="signal_flow")
    assert {m.workflow_id for m in messages} == {ada_run.workflow_id}, "only Ada's run hears"
    reply, opt_out, channel = await signals_of(agency, "contact-nurture")
    assert reply == {
        "id": reply["id"],
        "type": "email.received",
        "status": None,
        "record_type": "contact",
        "record_id": str(ada.id),
    }
    assert opt_out["type"] == "message_preference.updated"
    assert opt_out["opted_out"] == ["greetings", "marketing", "sales"]
    assert "opted_out" not in channel, "a channel change opts out of nothing"
    assert grace_run.status == "pending"


async def test_a_flow_without_stop_conditions_is_not_told_of_replies(agency: Actor) -> None:
    customer = await create_customer(agency, {"name": "Difference Engines"})

    await update_preferences(agency, "customer", customer.id, {"receives": ["transactional"]})

    assert await signals_of(agency, "customer-onboarding") == []


def test_the_inbound_events_flows_rely_on_are_the_ones_inbound_email_records() -> None:
    assert (EMAIL_RECEIVED, FIRST_MESSAGE_OUTCOME) == (RECEIVED_EVENT, Outcome.NEW_LEAD)


async def test_the_message_that_made_a_contact_does_not_reach_its_runs(agency: Actor) -> None:
    ada = await create_contact(agency, {"first_name": "Ada", "emails": ["ada@example.com"]})
    first = {"message_id": "<m1@example.com>", "from": "ada@example.com", "subject": "Desks"}

    async with in_transaction() as connection:
        await append_event(
            agency,
            "email.received",
            "contact",
            str(ada.id),
            {**first, "outcome": "new_lead"},
            connection,
        )
    await record_reply(agency, ada.id)

    assert [s["type"] for s in await signals_of(agency, "contact-nurture")] == ["email.received"]
