"""Flows on leads and deals, end to end on the time-skipping server.

A lead flow calls about its lead, waits for the call, and qualifies and converts the lead; the
deal that makes starts the deal's own flow. Runs on SQLite only, as test_flow_runs.py says why.
"""

from __future__ import annotations

import pytest

from db.calling_tasks import CallingTask
from db.deals import Deal
from db.leads import Lead
from db.notifications import Notification
from domain.calling_tasks import transition_calling_task
from domain.flows.definitions import FlowRunStatus
from domain.flows.service import create_flow, publish_draft
from domain.leads import create_lead
from tests.fixtures.flows import Flows
from tests.fixtures.sales_flows import LEAD_FOLLOW_UP, STALLED_DEAL

pytestmark = pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)


async def new_lead(flows: Flows) -> Lead:
    """A lead about a new contact, with the lead and deal flows published."""
    for definition in (LEAD_FOLLOW_UP, STALLED_DEAL):
        await create_flow(flows.actor, definition)
        await publish_draft(flows.actor, definition["key"])
    ada = await flows.create_contact()
    data = {"title": "Engines", "services": ["install"], "contact_id": ada.id}
    return await create_lead(flows.actor, {**data, "owner_id": flows.owner_id})


async def told(user_id: object) -> list[tuple[str, str]]:
    """What a user was told about leads and deals (the contact's own nurture flow runs too)."""
    found = Notification.filter(user_id=user_id, record_type__in=["lead", "deal"])
    return [(n.record_type, n.message) for n in await found.order_by("id")]


async def test_a_lead_is_called_then_converted_and_its_deal_is_followed_up(flows: Flows) -> None:
    lead = await new_lead(flows)
    await flows.relay_all()

    async with flows.worker():
        follow_up = await flows.run_of("lead-follow-up", lead)
        await flows.reach(follow_up, "called")
        task = await CallingTask.get(lead_id=lead.id)
        await transition_calling_task(flows.actor, task.id, "complete", outcome_notes="Keen.")
        await flows.relay_all()
        follow_up_result = await flows.result(follow_up)
        deal = await Deal.get(lead_id=lead.id)
        await flows.relay_all()  # the deal's creation starts its flow
        stalled = await flows.result(await flows.run_of("stalled-deal", deal))

    assert follow_up_result.status == stalled.status == FlowRunStatus.COMPLETED
    assert (task.subject, task.assignee_id, task.contact_id) == (
        "Call about Engines",
        flows.owner_id,
        lead.contact_id,
    )
    assert (await Lead.get(id=lead.id)).status == "converted"
    assert (deal.name, deal.owner_id, deal.status) == ("Engines", flows.owner_id, "open")
    # Fourteen days without a stage move: the owner hears of it.
    assert await told(flows.owner_id) == [("deal", "Engines is stalled")]
    assert await told(flows.head_id) == []


async def test_a_lead_nobody_calls_about_is_brought_to_a_sales_head(flows: Flows) -> None:
    lead = await new_lead(flows)
    await flows.relay_all()

    async with flows.worker():
        result = await flows.result(await flows.run_of("lead-follow-up", lead))

    assert (result.status, result.last_step) == (FlowRunStatus.COMPLETED, "done")
    assert await told(flows.head_id) == [("lead", "Engines?")]
    assert (await Lead.get(id=lead.id)).status == "new"
    assert await Deal.filter(lead_id=lead.id).count() == 0
