"""Deals over GraphQL/HTTP: create in a pipeline, move between stages as lifecycle events
(losing needs a reason, reopening needs an admin), update, soft delete, list, and isolation
between agencies."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from strawberry import relay

from db.audit import AuditEntry
from db.deals import Deal
from db.events import Event
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api

DEAL_FIELDS = """
    id name status amount currency expectedCloseDate competitors closeReason closedAt
    probability weightedAmount ownerId leadId contactId pipelineId allowedEvents
    stage { id name kind probability } createdAt updatedAt
"""
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($input: CreateDealInput!) {{
  createDeal(input: $input) {{ deal {{ {DEAL_FIELDS} }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($input: UpdateDealInput!) {{
  updateDeal(input: $input) {{ deal {{ {DEAL_FIELDS} }} {ERRORS} }}
}}"""
MOVE = f"""
mutation($id: ID!, $stage: ID!, $reason: String! = "") {{
  moveDeal(input: {{id: $id, stageId: $stage, reason: $reason}}) {{
    deal {{ {DEAL_FIELDS} }} {ERRORS}
  }}
}}"""
DELETE = f"mutation($id: ID!) {{ deleteDeal(input: {{id: $id}}) {{ deal {{ id }} {ERRORS} }} }}"
GET = f"query($id: ID!) {{ deal(id: $id) {{ {DEAL_FIELDS} }} }}"
LIST = """
query($first: Int, $after: String, $filter: DealFilter, $orderBy: DealOrder) {
  deals(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { node { id name status expectedCloseDate } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PIPELINES = "{ pipelines { id name stages { id name } } }"
CREATE_PIPELINE = """
mutation($name: String!) {
  createPipeline(input: {name: $name}) { pipeline { id stages { id name } } }
}"""
CONTACT = """
mutation { createContact(input: {firstName: "Grace"}) { contact { id } } }"""


async def stages(api: Api) -> dict[str, str]:
    """The default pipeline's stage ids by name."""
    pipeline = (await api.graphql(PIPELINES))["pipelines"][0]
    return {s["name"]: s["id"] for s in pipeline["stages"]}


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    values = {"name": "Website relaunch", "expectedCloseDate": "2030-06-30", **fields}
    payload = (await api.graphql(CREATE, {"input": values}))["createDeal"]
    assert payload["errors"] == [], payload["errors"]
    deal: dict[str, Any] = payload["deal"]
    return deal


async def move(api: Api, deal_id: str, stage: str, reason: str = "") -> dict[str, Any]:
    data = await api.graphql(MOVE, {"id": deal_id, "stage": stage, "reason": reason})
    payload: dict[str, Any] = data["moveDeal"]
    return payload


def user_gid(user_id: UUID) -> str:
    return str(relay.GlobalID("User", str(user_id)))


def codes(payload: dict[str, Any]) -> dict[str | None, str]:
    return {e["field"]: e["code"] for e in payload["errors"]}


async def test_new_deal_starts_in_the_default_pipelines_first_stage(api: Api) -> None:
    deal = await create(
        api, amount="12000.50", currency="eur", competitors=["Acme Ads", "Acme Ads", "Bolt"]
    )
    me = (await api.graphql("{ me { id } }"))["me"]["id"]
    assert deal["stage"] == {
        "id": (await stages(api))["Prospecting"],
        "name": "Prospecting",
        "kind": "OPEN",
        "probability": 10,
    }
    assert (deal["status"], deal["probability"]) == ("OPEN", 10)
    assert (deal["amount"], deal["currency"], deal["weightedAmount"]) == (
        "12000.50",
        "EUR",
        "1200.05",
    )
    assert deal["competitors"] == ["Acme Ads", "Bolt"]
    assert deal["ownerId"] == me
    assert deal["allowedEvents"] == ["MOVE", "WIN", "LOSE"]
    assert (deal["closeReason"], deal["closedAt"]) == ("", None)
    assert (await api.graphql(GET, {"id": deal["id"]}))["deal"] == deal


async def test_deal_input_errors_are_typed_and_write_nothing(api: Api) -> None:
    data = await api.graphql(
        CREATE,
        {
            "input": {
                "name": " ",
                "expectedCloseDate": "2030-01-01",
                "amount": "-1",
                "currency": "EURO",
                "competitors": [f"c{i}" for i in range(21)],
            }
        },
    )
    assert codes(data["createDeal"]) == {
        "name": "REQUIRED",
        "amount": "OUT_OF_RANGE",
        "currency": "INVALID_CURRENCY",
        "competitors": "TOO_MANY",
    }
    for fields, expected in (
        ({"amount": "10.005", "currency": "EUR"}, {"amount": "OUT_OF_RANGE"}),
        ({"amount": "100"}, {"currency": "REQUIRED"}),
    ):
        values = {"name": "X", "expectedCloseDate": "2030-01-01", **fields}
        payload = (await api.graphql(CREATE, {"input": values}))["createDeal"]
        assert codes(payload) == expected
    assert await Deal.all().count() == 0


async def test_a_deal_starts_in_an_open_stage_of_the_pipeline_named(api: Api) -> None:
    default = await stages(api)
    other = (await api.graphql(CREATE_PIPELINE, {"name": "Renewals"}))["createPipeline"]
    other_stages = {s["name"]: s["id"] for s in other["pipeline"]["stages"]}

    in_other = await create(api, pipelineId=other["pipeline"]["id"])
    assert in_other["pipelineId"] == other["pipeline"]["id"]
    assert in_other["stage"]["id"] == other_stages["Prospecting"]

    for fields, expected in (
        ({"stageId": default["Closed Won"]}, {"stageId": "STAGE_CLOSED"}),
        (
            {"pipelineId": other["pipeline"]["id"], "stageId": default["Proposal"]},
            {"stageId": "NOT_FOUND"},
        ),
        ({"stageId": in_other["id"]}, {"stageId": "NOT_FOUND"}),  # a Deal id, not a Stage id
    ):
        values = {"name": "X", "expectedCloseDate": "2030-01-01", **fields}
        payload = (await api.graphql(CREATE, {"input": values}))["createDeal"]
        assert codes(payload) == expected, fields


async def test_moving_through_open_stages_then_winning(api: Api) -> None:
    ids = await stages(api)
    deal = await create(api, amount="1000", currency="USD")
    moved = await move(api, deal["id"], ids["Negotiation"], reason="Sent the contract")
    assert moved["errors"] == []
    assert (moved["deal"]["status"], moved["deal"]["probability"]) == ("OPEN", 75)
    assert moved["deal"]["weightedAmount"] == "750.00"

    won = await move(api, deal["id"], ids["Closed Won"], reason="Best references")
    assert (won["deal"]["status"], won["deal"]["closeReason"]) == ("WON", "Best references")
    assert won["deal"]["closedAt"] is not None
    assert won["deal"]["weightedAmount"] == "1000.00"
    assert won["deal"]["allowedEvents"] == ["REOPEN"]

    stored = await Deal.get()
    event = (
        await Event.filter(aggregate_id=str(stored.id), type="deal.transitioned")
        .order_by("-id")
        .first()
    )
    assert event is not None
    assert event.payload == {
        "event": "win",
        "from": "open",
        "to": "won",
        "from_stage_id": relay.GlobalID.from_id(ids["Negotiation"]).node_id,
        "to_stage_id": relay.GlobalID.from_id(ids["Closed Won"]).node_id,
        "reason": "Best references",
    }
    audit = await AuditEntry.filter(entity_id=str(stored.id), action="transition:win").get()
    assert (audit.before["status"], audit.after["status"]) == ("open", "won")


async def test_losing_without_a_reason_is_refused_and_changes_nothing(api: Api) -> None:
    ids = await stages(api)
    deal = await create(api)
    events = await Event.filter(type="deal.transitioned").count()
    refused = await move(api, deal["id"], ids["Closed Lost"], reason="  ")
    assert refused["deal"] is None
    assert refused["errors"] == [
        {"field": "reason", "code": "REASON_REQUIRED", "message": "Say why the deal was lost."}
    ]
    assert (await api.graphql(GET, {"id": deal["id"]}))["deal"]["status"] == "OPEN"
    assert await Event.filter(type="deal.transitioned").count() == events

    lost = await move(api, deal["id"], ids["Closed Lost"], reason="Too expensive")
    assert (lost["deal"]["status"], lost["deal"]["closeReason"]) == ("LOST", "Too expensive")
    assert (lost["deal"]["probability"], lost["deal"]["weightedAmount"]) == (0, "0.00")


async def test_closed_deals_move_only_when_an_admin_reopens_them(api: Api) -> None:
    ids = await stages(api)
    sales, _ = await colleague(api, Role.SALES_PERSON)
    deal = await create(sales)
    await move(sales, deal["id"], ids["Closed Won"])

    assert codes(await move(sales, deal["id"], ids["Proposal"])) == {"stageId": "FORBIDDEN"}
    to_lost = await move(sales, deal["id"], ids["Closed Lost"], reason="Oops")
    assert codes(to_lost) == {"stageId": "INVALID_TRANSITION"}
    assert "REOPEN" in to_lost["errors"][0]["message"]

    reopened = await move(api, deal["id"], ids["Proposal"], reason="Signed the wrong one")
    assert reopened["errors"] == []
    assert (reopened["deal"]["status"], reopened["deal"]["closeReason"]) == ("OPEN", "")
    assert reopened["deal"]["closedAt"] is None


async def test_moves_stay_within_the_deals_pipeline(api: Api) -> None:
    ids = await stages(api)
    deal = await create(api)
    other = (await api.graphql(CREATE_PIPELINE, {"name": "Renewals"}))["createPipeline"]
    foreign_stage = other["pipeline"]["stages"][1]["id"]
    assert codes(await move(api, deal["id"], foreign_stage)) == {"stageId": "NOT_FOUND"}
    assert codes(await move(api, deal["id"], ids["Prospecting"])) == {"stageId": "SAME_STAGE"}


async def test_update_changes_only_given_fields_and_audits_the_difference(api: Api) -> None:
    deal = await create(api, amount="500", currency="GBP", competitors=["Bolt"])
    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    data = await api.graphql(
        UPDATE,
        {
            "input": {
                "id": deal["id"],
                "amount": "750.25",
                "expectedCloseDate": "2031-01-15",
                "contactId": contact,
            }
        },
    )
    updated = data["updateDeal"]["deal"]
    assert (updated["amount"], updated["currency"], updated["competitors"]) == (
        "750.25",
        "GBP",
        ["Bolt"],
    )
    assert (updated["expectedCloseDate"], updated["contactId"]) == ("2031-01-15", contact)
    assert updated["stage"]["name"] == "Prospecting"
    audit = await AuditEntry.filter(entity_type="deal", action="update").get()
    assert audit.before == {
        "amount": "500.00",
        "expected_close_date": "2030-06-30",
        "contact_id": None,
    }

    no_currency = await create(api)
    data = await api.graphql(UPDATE, {"input": {"id": no_currency["id"], "amount": "10"}})
    assert codes(data["updateDeal"]) == {"currency": "REQUIRED"}


async def test_deleted_deal_disappears_but_stays_stored(api: Api) -> None:
    kept = await create(api, name="Kept")
    gone = await create(api, name="Gone")
    assert (await api.graphql(DELETE, {"id": gone["id"]}))["deleteDeal"]["errors"] == []
    listed = (await api.graphql(LIST, {"first": 10}))["deals"]["edges"]
    assert [e["node"]["id"] for e in listed] == [kept["id"]]
    assert (await api.graphql(GET, {"id": gone["id"]}))["deal"] is None
    assert await Deal.all().count() == 2
    assert codes((await api.graphql(DELETE, {"id": gone["id"]}))["deleteDeal"]) == {
        "id": "NOT_FOUND"
    }


async def test_filters_and_search(api: Api) -> None:
    ids = await stages(api)
    sales, sales_id = await colleague(api, Role.SALES_PERSON)
    await create(api, name="Spring campaign", expectedCloseDate="2030-03-01")
    summer = await create(api, name="Summer campaign", expectedCloseDate="2030-07-01")
    await create(sales, name="Autumn fair", expectedCloseDate="2030-10-01")
    await move(api, summer["id"], ids["Proposal"])

    async def names(filter: dict[str, Any]) -> list[str]:
        data = await api.graphql(
            LIST, {"filter": filter, "orderBy": {"field": "NAME", "direction": "ASC"}}
        )
        return [e["node"]["name"] for e in data["deals"]["edges"]]

    assert await names({"search": "CAMPAIGN"}) == ["Spring campaign", "Summer campaign"]
    assert await names({"stageId": ids["Proposal"]}) == ["Summer campaign"]
    assert await names({"statusIn": ["OPEN"], "ownerId": user_gid(sales_id)}) == ["Autumn fair"]
    assert await names(
        {"expectedCloseAfter": "2030-03-01", "expectedCloseBefore": "2030-10-01"}
    ) == [
        "Spring campaign",
        "Summer campaign",
    ]
    assert await names({"statusIn": ["WON", "LOST"]}) == []


async def test_pages_by_expected_close_date_walk_every_deal_once(api: Api) -> None:
    dates = [date(2030, 1, day) for day in (5, 3, 3, 9, 1, 7, 3)]
    for number, close in enumerate(dates):
        await create(api, name=f"D{number}", expectedCloseDate=close.isoformat())
    seen: list[str] = []
    after = None
    while True:
        data = await api.graphql(
            LIST,
            {
                "first": 3,
                "after": after,
                "orderBy": {"field": "EXPECTED_CLOSE_DATE", "direction": "ASC"},
            },
        )
        page = data["deals"]
        seen += [e["node"]["expectedCloseDate"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(d.isoformat() for d in dates)


async def test_another_agency_can_neither_see_nor_touch_a_deal(api: Api) -> None:
    ids = await stages(api)
    deal = await create(api)
    bolt = await other_agency_admin(api)
    assert (await bolt.graphql(GET, {"id": deal["id"]}))["deal"] is None
    assert (await bolt.graphql(LIST, {}))["deals"]["edges"] == []
    assert codes(await move(bolt, deal["id"], ids["Proposal"])) == {"id": "NOT_FOUND"}
    update = await bolt.graphql(UPDATE, {"input": {"id": deal["id"], "name": "Mine"}})
    assert codes(update["updateDeal"]) == {"id": "NOT_FOUND"}
    into_acme = await bolt.graphql(
        CREATE,
        {"input": {"name": "X", "expectedCloseDate": "2030-01-01", "stageId": ids["Proposal"]}},
    )
    assert codes(into_acme["createDeal"]) == {"stageId": "NOT_FOUND"}
    bolt_pipelines = (await bolt.graphql(PIPELINES))["pipelines"]
    assert [p["id"] for p in bolt_pipelines] != [
        (await api.graphql(PIPELINES))["pipelines"][0]["id"]
    ]
    assert (await api.graphql(GET, {"id": deal["id"]}))["deal"]["name"] == "Website relaunch"


async def test_deal_lifecycle_introspection_matches_the_machine(api: Api) -> None:
    data = await api.graphql(
        '{ lifecycle(recordType: "Deal") { states { id final } events { id } '
        "transitions { event source target } } }"
    )
    lifecycle = data["lifecycle"]
    assert [s["id"] for s in lifecycle["states"]] == ["OPEN", "WON", "LOST"]
    assert {e["id"] for e in lifecycle["events"]} == {"MOVE", "WIN", "LOSE", "REOPEN"}
    assert {"event": "LOSE", "source": "OPEN", "target": "LOST"} in lifecycle["transitions"]


async def statements(api: Api, caplog: pytest.LogCaptureFixture, document: str) -> int:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        await api.graphql(document)
    return sum(1 for record in caplog.records if record.name == "tortoise.db_client")


async def test_lists_cost_a_constant_number_of_statements(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    page = (
        "{ deals(first: %d) { edges { node { name stage { name } probability weightedAmount } } } }"
    )
    pipelines = "{ pipelines { name stages { name probability } } }"
    for number in range(12):
        await create(api, name=f"D{number}")
    small, large = await statements(api, caplog, page % 2), await statements(api, caplog, page % 12)
    assert small == large, f"{small} statements for 2 deals, {large} for 12"
    one = await statements(api, caplog, pipelines)
    for number in range(3):
        await api.graphql(CREATE_PIPELINE, {"name": f"P{number}"})
    assert await statements(api, caplog, pipelines) == one
