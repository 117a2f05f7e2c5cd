"""Stage activities: a deal entering a stage gets the stage's activities as calling tasks for
its owner; an admin marks some required, and the deal cannot move on while one is open."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api

PIPELINE = (
    """{ pipelines { id version stages { id name activities { name required dueInDays } } } }"""
)
SET = """
mutation($input: SetStageActivitiesInput!) {
  setStageActivities(input: $input) {
    pipeline { version } stage { name activities { name required dueInDays } }
    errors { field code message }
  }
}"""
CONTACT = 'mutation { createContact(input: {firstName: "Grace"}) { contact { id } } }'
DEAL = """
mutation($contact: ID!) {
  createDeal(input: {name: "Relaunch", expectedCloseDate: "2030-06-30", contactId: $contact}) {
    deal { id ownerId } errors { code }
  }
}"""
MOVE = """
mutation($id: ID!, $stage: ID!, $reason: String! = "") {
  moveDeal(input: {id: $id, stageId: $stage, reason: $reason}) {
    deal { stage { name } } errors { field code message }
  }
}"""
TASKS = """
query($deal: ID!) {
  callingTasks(first: 20, filter: {dealId: $deal}) {
    edges { node { id subject status required stageId dueAt contactId assignee { name } } }
  }
}"""
DONE = """
mutation($id: ID!) {
  transitionCallingTask(input: {id: $id, event: COMPLETE, outcomeNotes: "Spoke."}) {
    errors { code }
  }
}"""


async def tasks_of(api: Api, deal_id: str) -> list[dict[str, Any]]:
    edges = (await api.graphql(TASKS, {"deal": deal_id}))["callingTasks"]["edges"]
    return sorted((edge["node"] for edge in edges), key=lambda task: task["subject"])


async def test_the_seeded_stages_list_their_activities_and_a_new_deal_gets_them_as_tasks(
    api: Api,
) -> None:
    pipeline = (await api.graphql(PIPELINE))["pipelines"][0]
    activities = {s["name"]: [a["name"] for a in s["activities"]] for s in pipeline["stages"]}
    assert activities["Prospecting"] == ["Initial Contact", "Qualification Call"]
    assert activities["Proposal"] == ["Send Proposal", "Follow-up"]
    assert activities["Closed Lost"] == []

    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    deal = (await api.graphql(DEAL, {"contact": contact}))["createDeal"]["deal"]

    tasks = await tasks_of(api, deal["id"])
    prospecting = next(s["id"] for s in pipeline["stages"] if s["name"] == "Prospecting")
    assert [(t["subject"], t["status"], t["stageId"]) for t in tasks] == [
        ("Initial Contact", "NEW", prospecting),
        ("Qualification Call", "NEW", prospecting),
    ]
    assert {t["assignee"]["name"] for t in tasks} == {"Ada Admin"}  # the deal's owner
    assert {t["contactId"] for t in tasks} == {contact}


async def test_a_required_activity_holds_the_deal_in_its_stage_until_it_is_done(
    api: Api,
) -> None:
    pipeline = (await api.graphql(PIPELINE))["pipelines"][0]
    stage = {s["name"]: s["id"] for s in pipeline["stages"]}
    required = [
        {"name": "Initial Contact", "required": True, "dueInDays": 1},
        {"name": "Qualification Call", "required": True, "dueInDays": 2},
        {"name": "Send Brochure", "dueInDays": 0},
    ]
    saved = (
        await api.graphql(SET, {"input": {"stageId": stage["Prospecting"], "activities": required}})
    )["setStageActivities"]
    assert saved["errors"] == []
    assert saved["pipeline"]["version"] == pipeline["version"] + 1
    assert [a["required"] for a in saved["stage"]["activities"]] == [True, True, False]
    twice = [{"name": "Call"}, {"name": "call"}]
    refused = (
        await api.graphql(SET, {"input": {"stageId": stage["Prospecting"], "activities": twice}})
    )["setStageActivities"]
    assert [e["code"] for e in refused["errors"]] == ["DUPLICATE_ACTIVITY"]

    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    deal = (await api.graphql(DEAL, {"contact": contact}))["createDeal"]["deal"]["id"]
    tasks = {t["subject"]: t for t in await tasks_of(api, deal)}
    assert {name: t["required"] for name, t in tasks.items()} == {
        "Initial Contact": True,
        "Qualification Call": True,
        "Send Brochure": False,
    }

    held = (await api.graphql(MOVE, {"id": deal, "stage": stage["Qualification"]}))["moveDeal"]
    assert [(e["field"], e["code"]) for e in held["errors"]] == [("stageId", "ACTIVITIES_OPEN")]
    assert "Initial Contact, Qualification Call" in held["errors"][0]["message"]

    await api.graphql(DONE, {"id": tasks["Initial Contact"]["id"]})
    still = (await api.graphql(MOVE, {"id": deal, "stage": stage["Qualification"]}))["moveDeal"]
    assert "Qualification Call." in still["errors"][0]["message"]
    await api.graphql(DONE, {"id": tasks["Qualification Call"]["id"]})

    moved = (await api.graphql(MOVE, {"id": deal, "stage": stage["Qualification"]}))["moveDeal"]
    assert moved["errors"] == []
    assert moved["deal"]["stage"]["name"] == "Qualification"
    open_now = {t["subject"] for t in await tasks_of(api, deal) if t["status"] == "NEW"}
    assert open_now == {"Send Brochure", "Needs Analysis", "Decision Maker Call"}


async def test_losing_a_deal_is_never_held_up_by_its_activities(api: Api) -> None:
    pipeline = (await api.graphql(PIPELINE))["pipelines"][0]
    stage = {s["name"]: s["id"] for s in pipeline["stages"]}
    await api.graphql(
        SET,
        {
            "input": {
                "stageId": stage["Prospecting"],
                "activities": [{"name": "Call", "required": True}],
            }
        },
    )
    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    deal = (await api.graphql(DEAL, {"contact": contact}))["createDeal"]["deal"]["id"]

    lost = (
        await api.graphql(MOVE, {"id": deal, "stage": stage["Closed Lost"], "reason": "Budget"})
    )["moveDeal"]

    assert lost["errors"] == []
