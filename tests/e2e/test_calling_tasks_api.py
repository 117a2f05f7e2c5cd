"""Calling tasks over GraphQL/HTTP: create, schedule, reschedule, complete, abort; guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from strawberry import relay

from db.calling_tasks import CallingTask
from domain.roles import Role
from tests.e2e.colleagues import colleague
from tests.e2e.conftest import Api

CREATE = """
mutation($input: CreateCallingTaskInput!) {
  createCallingTask(input: $input) {
    callingTask { id status subject contactId assignee { name } allowedEvents }
    errors { field code message }
  }
}"""
MOVE = """
mutation($input: TransitionCallingTaskInput!) {
  transitionCallingTask(input: $input) {
    callingTask { status dueAt outcomeNotes rescheduleCount allowedEvents }
    errors { field code message }
  }
}"""
LIST = """
query($filter: CallingTaskFilter) {
  callingTasks(first: 10, filter: $filter, orderBy: {field: DUE_AT, direction: ASC}) {
    edges { node { subject status } }
  }
}"""


def later(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


async def new_task(api: Api, subject: str = "Intro call") -> dict[str, Any]:
    created = await api.graphql(
        'mutation { createContact(input: {firstName: "Kim"}) { contact { id } } }'
    )
    contact_id = created["createContact"]["contact"]["id"]
    data = await api.graphql(CREATE, {"input": {"subject": subject, "contactId": contact_id}})
    assert data["createCallingTask"]["errors"] == [], data["createCallingTask"]["errors"]
    task: dict[str, Any] = data["createCallingTask"]["callingTask"]
    assert task["contactId"] == contact_id
    return task


async def move(api: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.graphql(MOVE, {"input": fields}))["transitionCallingTask"]
    return payload


async def test_task_goes_new_scheduled_rescheduled_done(api: Api) -> None:
    task = await new_task(api)
    assert task["status"] == "NEW"
    assert task["assignee"] == {"name": "Ada Admin"}
    scheduled = await move(api, id=task["id"], event="SCHEDULE", dueAt=later(2))
    assert scheduled["callingTask"]["status"] == "SCHEDULED"
    again = await move(api, id=task["id"], event="RESCHEDULE", dueAt=later(26))
    assert again["callingTask"]["status"] == "RESCHEDULED"
    twice = await move(api, id=task["id"], event="RESCHEDULE", dueAt=later(50))
    assert twice["callingTask"]["rescheduleCount"] == 2
    done = await move(api, id=task["id"], event="COMPLETE", outcomeNotes="Wants a demo.")
    assert done["callingTask"]["status"] == "DONE"
    assert done["callingTask"]["outcomeNotes"] == "Wants a demo."
    assert done["callingTask"]["allowedEvents"] == []


async def test_scheduling_needs_a_future_due_time(api: Api) -> None:
    task = await new_task(api)
    missing = await move(api, id=task["id"], event="SCHEDULE")
    assert missing["errors"] == [
        {"field": "dueAt", "code": "GUARD_FAILED", "message": "Give the call a due time (dueAt)."}
    ]
    past = await move(api, id=task["id"], event="SCHEDULE", dueAt=later(-1))
    assert past["errors"][0]["code"] == "GUARD_FAILED"
    assert (await CallingTask.get()).status == "new"


async def test_completing_needs_outcome_notes(api: Api) -> None:
    task = await new_task(api)
    refused = await move(api, id=task["id"], event="COMPLETE")
    assert refused["errors"][0]["field"] == "outcomeNotes"
    assert refused["errors"][0]["code"] == "GUARD_FAILED"


async def test_done_and_aborted_are_final(api: Api) -> None:
    task = await new_task(api)
    await move(api, id=task["id"], event="ABORT")
    refused = await move(api, id=task["id"], event="SCHEDULE", dueAt=later(1))
    assert refused["errors"][0]["code"] == "INVALID_TRANSITION"
    assert "none (final state)" in refused["errors"][0]["message"]


async def test_a_task_needs_someone_to_call(api: Api) -> None:
    data = await api.graphql(CREATE, {"input": {"subject": "Call whom?"}})
    assert data["createCallingTask"]["errors"][0]["code"] == "REQUIRED"
    assert await CallingTask.all().count() == 0


async def test_tasks_list_by_due_time_and_filter_by_status(api: Api) -> None:
    first, second = await new_task(api, "Later call"), await new_task(api, "Sooner call")
    await move(api, id=first["id"], event="SCHEDULE", dueAt=later(10))
    await move(api, id=second["id"], event="SCHEDULE", dueAt=later(1))
    data = await api.graphql(LIST, {"filter": {"statusIn": ["SCHEDULED"]}})
    assert [e["node"]["subject"] for e in data["callingTasks"]["edges"]] == [
        "Sooner call",
        "Later call",
    ]


async def test_notes_brief_the_caller_and_can_be_changed(api: Api) -> None:
    task = await new_task(api)
    update = """mutation($input: UpdateCallingTaskInput!) {
      updateCallingTask(input: $input) { callingTask { notes } errors { code } }
    }"""

    changed = await api.graphql(update, {"input": {"id": task["id"], "notes": "Ask about Q3"}})

    assert changed["updateCallingTask"] == {"callingTask": {"notes": "Ask about Q3"}, "errors": []}
    read = await api.graphql(
        "query($id: ID!) { callingTask(id: $id) { notes } }", {"id": task["id"]}
    )
    assert read["callingTask"]["notes"] == "Ask about Q3"


ABOUT = """
mutation($input: CreateCallingTaskInput!) {
  createCallingTask(input: $input) {
    callingTask { id contactId customerId leadId dealId lead { title } deal { name } }
    errors { field code message }
  }
}"""
DEAL_TIMELINE = """
query($id: ID!) {
  deal(id: $id) {
    timeline(first: 10) {
      edges { node { kind ... on CallingTaskEntry { callingTask { subject status } }
                     ... on StatusChangeEntry { event toStatus } } }
    }
  }
}"""


async def without_stage_activities(api: Api) -> None:
    """New deals start in Prospecting; without its activities, no task is made for them."""
    pipeline = (await api.graphql("{ pipelines { stages { id name } } }"))["pipelines"][0]
    first = next(stage["id"] for stage in pipeline["stages"] if stage["name"] == "Prospecting")
    cleared = await api.graphql(
        "mutation($id: ID!) { setStageActivities(input: {stageId: $id, activities: []}) "
        "{ errors { code } } }",
        {"id": first},
    )
    assert cleared["setStageActivities"]["errors"] == []


async def test_a_call_about_a_deal_goes_to_its_contact_and_shows_on_its_timeline(
    api: Api,
) -> None:
    await without_stage_activities(api)
    kim = await api.created("CreateContactInput", "createContact", "contact", {"firstName": "Kim"})
    deal = await api.created(
        "CreateDealInput",
        "createDeal",
        "deal",
        {"name": "Renewal", "expectedCloseDate": "2030-01-01", "contactId": kim},
    )
    data = await api.graphql(ABOUT, {"input": {"subject": "Talk terms", "dealId": deal}})
    assert data["createCallingTask"]["errors"] == []
    task = data["createCallingTask"]["callingTask"]
    assert (task["contactId"], task["customerId"], task["dealId"]) == (kim, None, deal)
    assert (task["deal"], task["lead"], task["leadId"]) == ({"name": "Renewal"}, None, None)
    await new_task(api, "Unrelated call")

    listed = await api.graphql(LIST, {"filter": {"dealId": deal}})
    assert [edge["node"]["subject"] for edge in listed["callingTasks"]["edges"]] == ["Talk terms"]

    await move(api, id=task["id"], event="COMPLETE", outcomeNotes="Signs next week.")
    timeline = (await api.graphql(DEAL_TIMELINE, {"id": deal}))["deal"]["timeline"]["edges"]
    assert [edge["node"] for edge in timeline] == [
        {"kind": "STATUS_CHANGE", "event": "complete", "toStatus": "done"},
        {"kind": "CALLING_TASK", "callingTask": {"subject": "Talk terms", "status": "DONE"}},
    ]


async def test_a_call_about_a_lead_names_someone_to_call_or_is_refused(api: Api) -> None:
    lead = await api.created(
        "CreateLeadInput", "createLead", "lead", {"title": "Rebrand", "services": ["SEO"]}
    )
    data = await api.graphql(ABOUT, {"input": {"subject": "Scope it", "leadId": lead}})
    [error] = data["createCallingTask"]["errors"]
    assert (error["field"], error["code"]) == ("contactId", "REQUIRED")
    assert await CallingTask.all().count() == 0
    kim = await api.created("CreateContactInput", "createContact", "contact", {"firstName": "Kim"})
    data = await api.graphql(
        ABOUT, {"input": {"subject": "Scope it", "leadId": lead, "contactId": kim}}
    )
    task = data["createCallingTask"]["callingTask"]
    assert (task["leadId"], task["lead"], task["contactId"]) == (lead, {"title": "Rebrand"}, kim)


async def test_a_deal_stays_hidden_behind_a_call_about_it(api: Api) -> None:
    """A call may name a deal its creator can see and an assignee cannot: the assignee reads
    the call, never the deal."""
    deal = await api.created(
        "CreateDealInput",
        "createDeal",
        "deal",
        {"name": "Secret", "expectedCloseDate": "2030-01-01"},
    )
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    kim = await rep.created("CreateContactInput", "createContact", "contact", {"firstName": "Kim"})
    data = await rep.graphql(
        ABOUT, {"input": {"subject": "Peek", "dealId": deal, "contactId": kim}}
    )
    [error] = data["createCallingTask"]["errors"]
    assert (error["field"], error["code"]) == ("dealId", "NOT_FOUND")
    assert await CallingTask.filter(stage_id__isnull=True).count() == 0  # none but the stage's

    rep_gid = str(relay.GlobalID("User", str(rep_id)))
    handed_over = {"subject": "Chase", "dealId": deal, "contactId": kim, "assigneeId": rep_gid}
    data = await api.graphql(ABOUT, {"input": handed_over})
    task_id = data["createCallingTask"]["callingTask"]["id"]
    seen = await rep.graphql(
        "query($id: ID!) { callingTask(id: $id) { subject deal { name } } }", {"id": task_id}
    )
    assert seen["callingTask"] == {"subject": "Chase", "deal": None}
    deals = await rep.graphql("{ deals(first: 5) { edges { node { id } } } }")
    assert deals["deals"]["edges"] == []


async def test_a_call_about_a_deal_never_takes_a_contact_its_creator_cannot_see(api: Api) -> None:
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    theirs = await api.created("CreateContactInput", "createContact", "contact", {"firstName": "X"})
    deal = await api.created(
        "CreateDealInput",
        "createDeal",
        "deal",
        {
            "name": "Handed over",
            "expectedCloseDate": "2030-01-01",
            "contactId": theirs,  # the admin's contact, out of the rep's scope
            "ownerId": str(relay.GlobalID("User", str(rep_id))),
        },
    )
    data = await rep.graphql(ABOUT, {"input": {"subject": "Who?", "dealId": deal}})
    [error] = data["createCallingTask"]["errors"]
    assert (error["field"], error["code"]) == ("contactId", "REQUIRED")
    assert await CallingTask.filter(stage_id__isnull=True).count() == 0  # none but the stage's
