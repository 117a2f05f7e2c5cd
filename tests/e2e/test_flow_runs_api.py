"""Runs seen over GraphQL while a real worker runs them on the time-skipping server.

The issue's "done when": a sysadmin changes the on-boarding reminder interval through GraphQL
and publishes it; a customer created afterwards is reminded at the new interval, while the
run that started before keeps the version (and the interval) it started with.

SQLite only: the SQL these runs rely on is proven on both databases in the integration tests.
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from strawberry import relay

from crm.flow_files import load_default_templates
from db.calling_tasks import CallingTask
from db.customers import Customer
from db.events import Event
from domain.actors import Actor
from domain.message_templates import seed_default_templates
from domain.roles import Role
from tests.e2e.conftest import Api
from tests.e2e.test_flows_api import (
    CREATE_DRAFT,
    PUBLISH,
    UPDATE_DRAFT,
    seed_flows,
    sign_in_as,
    step,
)
from tests.fixtures.flows import DEFAULT_FLOWS, Flows, record_reply

pytestmark = pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)

ONBOARDING = "customer-onboarding"
CREATE_CUSTOMER = """mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } errors { field code message } }
}"""
RUNS = """query($id: ID!) {
  flowRuns(recordId: $id) { flowKey version status currentStep nextWakeAt }
}"""


@pytest.fixture
async def acme_flows(sending: Flows) -> Flows:
    """Acme's default flows, with a relay and workers on the time-skipping server (Acme has no
    support user: role steps fall back to the admin)."""
    await seed_flows(sending.agency_id)
    return sending


async def create_customer(api: Api, name: str) -> tuple[str, Customer]:
    """The new customer's global id, and its row."""
    created = (await api.graphql(CREATE_CUSTOMER, {"input": {"name": name}}))["createCustomer"]
    assert created["errors"] == []
    global_id: str = created["customer"]["id"]
    return global_id, await Customer.get(id=relay.GlobalID.from_id(global_id).node_id)


async def onboarding_run(api: Api, customer_id: str) -> dict[str, Any]:
    runs = (await api.graphql(RUNS, {"id": customer_id}))["flowRuns"]
    found: dict[str, Any] = next(run for run in runs if run["flowKey"] == ONBOARDING)
    return found


async def reminder_intervals(flows: Flows, customer: Customer) -> list[timedelta]:
    """The time between one wait for activation and the next, from the run's progress events."""
    row_id = (await flows.run_row(ONBOARDING, customer)).id
    events = await Event.filter(
        aggregate_type="flow_run", aggregate_id=str(row_id), type="flow_run.progressed"
    ).order_by("id")
    wakes = [
        datetime.fromisoformat(event.payload["next_wake_at"])
        for event in events
        if event.payload["current_step"] == "wait-for-activation"
        and event.payload["status"] == "waiting"
    ]
    return [later - earlier for earlier, later in itertools.pairwise(wakes)]


def about(span: timedelta) -> timedelta:
    """A span to the hour: each wait starts a moment after the last one ended."""
    return timedelta(hours=round(span.total_seconds() / 3600))


async def test_a_sysadmin_changes_the_reminder_interval_and_only_new_runs_use_it(
    api: Api, acme_flows: Flows
) -> None:
    flows = acme_flows
    sysadmin = await sign_in_as(api, Actor.system(flows.agency_id, "test"), "sam", Role.SYSADMIN)
    old_customer, old_row = await create_customer(api, "Old Co")
    await flows.relay_all()

    async with flows.worker():
        old_handle = await flows.run_of(ONBOARDING, old_row)
        await flows.reach(old_handle, "wait-for-activation")

        draft = (await sysadmin.graphql(CREATE_DRAFT, {"key": ONBOARDING}))["createFlowDraft"]
        document = copy.deepcopy(draft["version"]["document"])
        assert step(document, "wait-for-activation")[1]["timeout"] == "3d"
        step(document, "wait-for-activation")[1]["timeout"] = "1d"
        edited = await sysadmin.graphql(UPDATE_DRAFT, {"key": ONBOARDING, "document": document})
        assert edited["updateFlowDraft"]["errors"] == []
        published = (await sysadmin.graphql(PUBLISH, {"key": ONBOARDING}))["publishFlowDraft"]
        assert (published["errors"], published["version"]["number"]) == ([], 2)

        new_customer, new_row = await create_customer(api, "New Co")
        await flows.relay_all()
        new_handle = await flows.run_of(ONBOARDING, new_row)
        await flows.reach(new_handle, "wait-for-activation")
        await flows.run_row_when(ONBOARDING, old_row, "waiting")
        await flows.run_row_when(ONBOARDING, new_row, "waiting")

        # What a sysadmin sees of the two runs while they wait.
        old_run = await onboarding_run(sysadmin, old_customer)
        new_run = await onboarding_run(sysadmin, new_customer)
        assert (old_run["version"], old_run["status"]) == (1, "WAITING")
        assert (new_run["version"], new_run["status"]) == (2, "WAITING")
        old_wake = datetime.fromisoformat(old_run["nextWakeAt"])
        new_wake = datetime.fromisoformat(new_run["nextWakeAt"])
        assert about(old_wake - new_wake) == timedelta(days=2)

        await flows.result(old_handle)
        await flows.result(new_handle)

    old_intervals = [about(span) for span in await reminder_intervals(flows, old_row)]
    new_intervals = [about(span) for span in await reminder_intervals(flows, new_row)]
    assert old_intervals == [timedelta(days=3)] * 2
    assert new_intervals == [timedelta(days=1)] * 2
    finished = await onboarding_run(sysadmin, old_customer)
    assert (finished["version"], finished["status"]) == (1, "COMPLETED")
    # The support call on-boarding created (no Customer Support user: it went to the admin).
    task = await CallingTask.get(customer_id=old_row.id)
    assert task.assignee_id == flows.owner_id
    task_id = str(relay.GlobalID("CallingTask", str(task.id)))
    assert (await api.graphql(RUNS, {"id": task_id}))["flowRuns"] == []  # not scheduled yet
    schedule = """mutation($input: TransitionCallingTaskInput!) {
      transitionCallingTask(input: $input) { errors { code } }
    }"""
    due = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    scheduled = await api.graphql(
        schedule, {"input": {"id": task_id, "event": "SCHEDULE", "dueAt": due}}
    )
    assert scheduled["transitionCallingTask"]["errors"] == []
    [reminders] = (await api.graphql(RUNS, {"id": task_id}))["flowRuns"]
    assert (reminders["flowKey"], reminders["version"], reminders["status"]) == (
        "calling-task-reminders",
        1,
        "PENDING",
    )


STOPPED = """query($id: ID!) {
  flowRuns(recordId: $id) { flowKey status currentStep stopReason finishedAt }
  timeline(recordId: $id, first: 20) {
    edges { node { kind ... on FlowStoppedEntry { at flowRun { flowKey status stopReason } } } }
  }
}"""


async def test_a_nurture_run_stopped_by_a_reply_says_why_in_its_runs_and_on_the_timeline(
    api: Api, acme_flows: Flows
) -> None:
    flows = acme_flows
    await seed_default_templates(flows.agency_id, load_default_templates(DEFAULT_FLOWS))
    ada = await flows.create_contact()
    await flows.relay_all()

    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        await flows.reach(nurture, "wait-for-interest")
        await record_reply(flows.actor, ada.id)
        await flows.relay_all()
        await flows.result(nurture)
        await flows.run_row_when("contact-nurture", ada, "stopped")

    seen = await api.graphql(STOPPED, {"id": str(relay.GlobalID("Contact", str(ada.id)))})
    [run] = seen["flowRuns"]
    assert run["finishedAt"] is not None
    assert {k: v for k, v in run.items() if k != "finishedAt"} == {
        "flowKey": "contact-nurture",
        "status": "STOPPED",
        "currentStep": "wait-for-interest",
        "stopReason": "REPLIED",
    }
    stops = [e["node"] for e in seen["timeline"]["edges"] if e["node"]["kind"] == "FLOW_STOPPED"]
    assert stops == [
        {
            "kind": "FLOW_STOPPED",
            "at": run["finishedAt"],
            "flowRun": {"flowKey": "contact-nurture", "status": "STOPPED", "stopReason": "REPLIED"},
        }
    ]
