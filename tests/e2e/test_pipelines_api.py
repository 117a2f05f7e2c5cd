"""Pipelines over GraphQL/HTTP: the default one seeded once, admins configuring stages, and the
rules that keep a pipeline usable (unique names, fixed closed probabilities, an open stage,
no deleting a stage deals are in)."""

from __future__ import annotations

import asyncio
from typing import Any

from db.audit import AuditEntry
from db.pipelines import Pipeline, Stage
from domain.pipelines import ensure_default_pipeline
from domain.roles import Role
from tests.e2e.colleagues import acme_system, colleague
from tests.e2e.conftest import Api

STAGES = "stages { id name position probability kind }"
PIPELINES = f"{{ pipelines {{ id name isDefault {STAGES} }} }}"
GET = f"query($id: ID!) {{ pipeline(id: $id) {{ id name {STAGES} }} }}"
PAYLOAD = (
    f"pipeline {{ id name isDefault {STAGES} }} stage {{ id name }} errors {{ field code message }}"
)
CREATE = (
    f"mutation($input: CreatePipelineInput!) {{ createPipeline(input: $input) {{ {PAYLOAD} }} }}"
)
RENAME = (
    f"mutation($input: UpdatePipelineInput!) {{ updatePipeline(input: $input) {{ {PAYLOAD} }} }}"
)
ADD = f"mutation($input: AddStageInput!) {{ addStage(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: UpdateStageInput!) {{ updateStage(input: $input) {{ {PAYLOAD} }} }}"
REORDER = (
    f"mutation($input: ReorderStagesInput!) {{ reorderStages(input: $input) {{ {PAYLOAD} }} }}"
)
DELETE = f"mutation($id: ID!) {{ deleteStage(input: {{id: $id}}) {{ {PAYLOAD} }} }}"
CREATE_DEAL = """
mutation($input: CreateDealInput!) { createDeal(input: $input) { deal { id } errors { code } } }"""
MOVE_DEAL = """
mutation($id: ID!, $stage: ID!) {
  moveDeal(input: {id: $id, stageId: $stage}) { deal { id } errors { code } }
}"""

DEFAULT = [
    ("Prospecting", 10, "OPEN"),
    ("Qualification", 25, "OPEN"),
    ("Proposal", 50, "OPEN"),
    ("Negotiation", 75, "OPEN"),
    ("Closed Won", 100, "WON"),
    ("Closed Lost", 0, "LOST"),
]


def shape(pipeline: dict[str, Any]) -> list[tuple[str, int, str]]:
    stages = pipeline["stages"]
    assert [s["position"] for s in stages] == list(range(len(stages)))
    return [(s["name"], s["probability"], s["kind"]) for s in stages]


async def default_pipeline(api: Api) -> dict[str, Any]:
    found: dict[str, Any] = (await api.graphql(PIPELINES))["pipelines"][0]
    assert found["isDefault"]
    return found


async def mutate(api: Api, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    data = await api.graphql(document, variables)
    payload: dict[str, Any] = next(iter(data.values()))
    return payload


def codes(payload: dict[str, Any]) -> dict[str | None, str]:
    return {e["field"]: e["code"] for e in payload["errors"]}


async def test_default_pipeline_is_seeded_once_with_the_standard_stages(api: Api) -> None:
    first = (await api.graphql(PIPELINES))["pipelines"]
    second = (await api.graphql(PIPELINES))["pipelines"]
    assert first == second
    assert len(first) == 1
    assert first[0]["name"] == "Sales"
    assert first[0]["isDefault"] is True
    assert shape(first[0]) == DEFAULT
    assert await Pipeline.all().count() == 1
    audit = await AuditEntry.filter(entity_type="pipeline").get()
    assert audit.actor_id == "system:default-pipeline"


async def test_concurrent_first_uses_seed_one_default_pipeline(api: Api) -> None:
    system = await acme_system()
    seeded = await asyncio.gather(*(ensure_default_pipeline(system.agency_id) for _ in range(5)))
    assert len({p.id for p in seeded}) == 1
    assert await Pipeline.all().count() == 1
    assert await Stage.all().count() == len(DEFAULT)


async def test_admin_creates_a_pipeline_with_its_own_stages(api: Api) -> None:
    payload = await mutate(
        api,
        CREATE,
        {
            "input": {
                "name": "Renewals",
                "stages": [
                    {"name": "Due", "probability": 60},
                    {"name": "Renewed", "probability": 100, "kind": "WON"},
                    {"name": "Churned", "probability": 0, "kind": "LOST"},
                ],
            }
        },
    )
    assert payload["errors"] == []
    assert payload["pipeline"]["isDefault"] is False
    assert shape(payload["pipeline"]) == [
        ("Due", 60, "OPEN"),
        ("Renewed", 100, "WON"),
        ("Churned", 0, "LOST"),
    ]
    names = [p["name"] for p in (await api.graphql(PIPELINES))["pipelines"]]
    assert names == ["Sales", "Renewals"]  # the default first


async def test_a_pipeline_without_stages_gets_the_default_ones(api: Api) -> None:
    payload = await mutate(api, CREATE, {"input": {"name": "Enterprise"}})
    assert shape(payload["pipeline"]) == DEFAULT


async def test_pipeline_input_errors_are_typed_and_write_nothing(api: Api) -> None:
    await default_pipeline(api)
    pipelines = await Pipeline.all().count()
    payload = await mutate(
        api,
        CREATE,
        {
            "input": {
                "name": "Odd",
                "stages": [
                    {"name": "A", "probability": 101},
                    {"name": " ", "probability": 10},
                ],
            }
        },
    )
    assert codes(payload) == {"stages.0.probability": "OUT_OF_RANGE", "stages.1.name": "REQUIRED"}
    payload = await mutate(
        api,
        CREATE,
        {
            "input": {
                "name": "Closed only",
                "stages": [
                    {"name": "Won", "probability": 80, "kind": "WON"},
                    {"name": "won", "probability": 0, "kind": "LOST"},
                ],
            }
        },
    )
    assert codes(payload) == {
        "stages.0.probability": "OUT_OF_RANGE",
        "stages.1.name": "DUPLICATE_NAME",
        "stages": "NO_OPEN_STAGE",
    }
    taken = await mutate(api, CREATE, {"input": {"name": "sales"}})
    assert codes(taken) == {"name": "DUPLICATE_NAME"}
    assert await Pipeline.all().count() == pipelines


async def test_admin_renames_a_pipeline(api: Api) -> None:
    pipeline = await default_pipeline(api)
    payload = await mutate(api, RENAME, {"input": {"id": pipeline["id"], "name": "New business"}})
    assert payload["pipeline"]["name"] == "New business"
    assert (await api.graphql(GET, {"id": pipeline["id"]}))["pipeline"]["name"] == "New business"


async def test_admin_adds_renames_and_reweights_stages(api: Api) -> None:
    pipeline = await default_pipeline(api)
    added = await mutate(
        api,
        ADD,
        {"input": {"pipelineId": pipeline["id"], "name": "Demo", "probability": 40, "position": 2}},
    )
    assert added["errors"] == []
    assert added["stage"]["name"] == "Demo"
    assert [s["name"] for s in added["pipeline"]["stages"]][:4] == [
        "Prospecting",
        "Qualification",
        "Demo",
        "Proposal",
    ]
    updated = await mutate(
        api, UPDATE, {"input": {"id": added["stage"]["id"], "name": "Live demo", "probability": 45}}
    )
    assert updated["errors"] == []
    assert ("Live demo", 45, "OPEN") in shape(updated["pipeline"])
    appended = await mutate(
        api, ADD, {"input": {"pipelineId": pipeline["id"], "name": "On hold", "probability": 5}}
    )
    assert shape(appended["pipeline"])[-1] == ("On hold", 5, "OPEN")


async def test_stage_changes_are_checked(api: Api) -> None:
    pipeline = await default_pipeline(api)
    stages = {s["name"]: s["id"] for s in pipeline["stages"]}
    cases = [
        (
            ADD,
            {"pipelineId": pipeline["id"], "name": "proposal", "probability": 5},
            {"name": "DUPLICATE_NAME"},
        ),
        (
            ADD,
            {"pipelineId": pipeline["id"], "name": "Signed", "probability": 90, "kind": "WON"},
            {"probability": "OUT_OF_RANGE"},
        ),
        (
            ADD,
            {"pipelineId": pipeline["id"], "name": "x" * 101, "probability": 5},
            {"name": "TOO_LONG"},
        ),
        (UPDATE, {"id": stages["Proposal"], "name": "Negotiation"}, {"name": "DUPLICATE_NAME"}),
        (UPDATE, {"id": stages["Closed Won"], "probability": 90}, {"probability": "OUT_OF_RANGE"}),
        (UPDATE, {"id": stages["Proposal"], "probability": -1}, {"probability": "OUT_OF_RANGE"}),
    ]
    for document, variables, expected in cases:
        assert codes(await mutate(api, document, {"input": variables})) == expected, variables
    assert shape(await default_pipeline(api)) == DEFAULT


async def test_admin_reorders_stages_and_must_name_each_once(api: Api) -> None:
    pipeline = await default_pipeline(api)
    ids = [s["id"] for s in pipeline["stages"]]
    reordered = await mutate(
        api, REORDER, {"input": {"pipelineId": pipeline["id"], "stageIds": ids[::-1]}}
    )
    assert [s["id"] for s in reordered["pipeline"]["stages"]] == ids[::-1]
    assert [s["position"] for s in reordered["pipeline"]["stages"]] == list(range(len(ids)))
    for bad in (ids[:-1], [*ids, ids[0]], [ids[0], *ids[:-1]]):
        payload = await mutate(
            api, REORDER, {"input": {"pipelineId": pipeline["id"], "stageIds": bad}}
        )
        assert codes(payload) == {"stageIds": "INVALID"}


async def test_a_stage_with_deals_cannot_be_deleted_or_change_kind(api: Api) -> None:
    pipeline = await default_pipeline(api)
    stages = {s["name"]: s["id"] for s in pipeline["stages"]}
    deal = await api.graphql(
        CREATE_DEAL,
        {
            "input": {
                "name": "Big one",
                "expectedCloseDate": "2030-01-31",
                "stageId": stages["Proposal"],
            }
        },
    )
    deal_id = deal["createDeal"]["deal"]["id"]
    refused = await mutate(api, DELETE, {"id": stages["Proposal"]})
    assert codes(refused) == {"id": "STAGE_IN_USE"}
    kind = await mutate(
        api, UPDATE, {"input": {"id": stages["Proposal"], "kind": "WON", "probability": 100}}
    )
    assert codes(kind) == {"kind": "STAGE_IN_USE"}

    await api.graphql(MOVE_DEAL, {"id": deal_id, "stage": stages["Negotiation"]})
    deleted = await mutate(api, DELETE, {"id": stages["Proposal"]})
    assert deleted["errors"] == []
    assert [s["name"] for s in deleted["pipeline"]["stages"]] == [
        "Prospecting",
        "Qualification",
        "Negotiation",
        "Closed Won",
        "Closed Lost",
    ]
    assert [s["position"] for s in deleted["pipeline"]["stages"]] == [0, 1, 2, 3, 4]
    again = await mutate(api, DELETE, {"id": stages["Proposal"]})
    assert codes(again) == {"id": "NOT_FOUND"}


async def test_a_pipeline_keeps_an_open_stage(api: Api) -> None:
    payload = await mutate(
        api,
        CREATE,
        {
            "input": {
                "name": "Tiny",
                "stages": [
                    {"name": "Talking", "probability": 50},
                    {"name": "Won", "probability": 100, "kind": "WON"},
                ],
            }
        },
    )
    talking = payload["pipeline"]["stages"][0]["id"]
    refused = await mutate(api, DELETE, {"id": talking})
    assert codes(refused) == {"id": "NO_OPEN_STAGE"}
    to_lost = await mutate(
        api, UPDATE, {"input": {"id": talking, "kind": "LOST", "probability": 0}}
    )
    assert codes(to_lost) == {"kind": "NO_OPEN_STAGE"}


async def test_only_admins_configure_pipelines_but_sales_reads_them(api: Api) -> None:
    pipeline = await default_pipeline(api)
    sales, _ = await colleague(api, Role.SALES_PERSON)
    assert (await sales.graphql(PIPELINES))["pipelines"] == [pipeline]
    refused = await mutate(
        sales, ADD, {"input": {"pipelineId": pipeline["id"], "name": "Mine", "probability": 5}}
    )
    assert codes(refused) == {None: "FORBIDDEN"}
    assert shape(await default_pipeline(api)) == DEFAULT


async def test_every_stage_change_is_audited(api: Api) -> None:
    pipeline = await default_pipeline(api)
    await mutate(
        api, ADD, {"input": {"pipelineId": pipeline["id"], "name": "Demo", "probability": 40}}
    )
    entry = await AuditEntry.filter(entity_type="pipeline", action="add_stage").get()
    assert [s["name"] for s in entry.after["stages"]][-1] == "Demo"
    assert len(entry.before["stages"]) == len(DEFAULT)
