"""The query cost budget as a client meets it: a document asking for too much is refused
before any resolver runs, the pages client apps ask for pass, and every answer says its cost."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Api, make_settings, open_api
from tests.e2e.test_event_subscriptions import (
    create_contact,
    following,
    head_cursor,
    next_message,
)
from tests.e2e.test_query_counts import PAGE, seed
from tests.e2e.test_timeline_api import CUSTOMER_TIMELINE, note

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
DEFAULT_BUDGET = 50_000
# What a new user found: 1.4 KB, inside the depth, alias and token limits, and 8.8 s of work.
ATTACK = (
    "{ "
    + " ".join(
        f"c{i}: contacts(first: 100) {{ edges {{ node {{ firstName"
        " timeline(first: 100) { edges { node { kind at } } }"
        " documents(first: 100) { edges { node { fileName } } } } } }"
        for i in range(15)
    )
    + " }"
)


def statements(caplog: pytest.LogCaptureFixture) -> int:
    return sum(1 for record in caplog.records if record.name == "tortoise.db_client")


async def post_counting_statements(
    api: Api, caplog: pytest.LogCaptureFixture, document: str
) -> tuple[httpx.Response, int]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        response = await api.post(
            json={"query": document}, headers={"accept": GRAPHQL_RESPONSE_JSON}
        )
    return response, statements(caplog)


async def test_the_alias_attack_is_refused_before_any_resolver_runs(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(3)
    # A request refused by validation runs nothing but the caller's authentication.
    _, baseline = await post_counting_statements(api, caplog, "{ noSuchField }")
    started = time.monotonic()
    response, issued = await post_counting_statements(api, caplog, ATTACK)
    elapsed = time.monotonic() - started

    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["budget"] == DEFAULT_BUDGET
    assert error["extensions"]["cost"] > 10 * DEFAULT_BUDGET
    assert issued == baseline, f"{issued} SQL statements, {baseline} for a validation error"
    assert elapsed < 2.0, f"refused in {elapsed:.2f} s"


async def test_with_legacy_json_the_refusal_is_a_200_like_other_validation_errors(
    api: Api,
) -> None:
    response = await api.post(json={"query": ATTACK}, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def cost_of(api: Api, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    cost: dict[str, Any] = body["extensions"]["cost"]
    return cost


async def test_a_client_app_page_of_100_contacts_stays_well_inside_the_budget(api: Api) -> None:
    await seed(100)
    cost = await cost_of(api, PAGE, {"first": 100})
    assert cost["budget"] == DEFAULT_BUDGET
    assert 100 < cost["requested"] <= DEFAULT_BUDGET * 2 // 3


async def test_a_record_with_a_timeline_of_100_stays_well_inside_the_budget(api: Api) -> None:
    customer_id = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Umbrella"}
    )
    await note(api, customer_id, "First contact at the fair.")
    cost = await cost_of(api, CUSTOMER_TIMELINE, {"id": customer_id, "first": 100})
    assert 100 < cost["requested"] <= DEFAULT_BUDGET // 10


@pytest.fixture
async def small_budget_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with open_api(make_settings(database_url, tmp_path, max_query_cost=50)) as opened:
        yield opened


# The connection, then an edge and a node per contact: 1 + 2 * n.
CONTACTS = "query($n: Int!) { contacts(first: $n) { edges { node { id } } } }"


async def test_the_budget_is_a_setting_and_page_sizes_in_variables_count(
    small_budget_api: Api,
) -> None:
    inside = await cost_of(small_budget_api, CONTACTS, {"n": 24})
    assert inside == {"requested": 49, "budget": 50}

    response = await small_budget_api.post(
        json={"query": CONTACTS, "variables": {"n": 25}},
        headers={"accept": GRAPHQL_RESPONSE_JSON},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 51, "budget": 50}


async def test_fragments_count_as_the_fields_they_stand_for(small_budget_api: Api) -> None:
    document = """
    query($n: Int!) { contacts(first: $n) { ...Page } }
    fragment Page on ContactConnection { edges { ... on ContactEdge { node { ...Person } } } }
    fragment Person on Contact { id owner { name } }
    """
    # Per contact an edge, its node and the owner: 1 + 3 * n.
    assert await cost_of(small_budget_api, document, {"n": 16}) == {"requested": 49, "budget": 50}
    refused = await small_budget_api.post(json={"query": document, "variables": {"n": 17}})
    assert refused.json()["errors"][0]["extensions"]["cost"] == 52


async def test_every_event_of_a_subscription_reports_its_cost(api: Api) -> None:
    async with following(api, api.token, {"after": await head_cursor()}) as ws:
        await create_contact(api, "Ada")
        message = await next_message(ws)
    assert message["payload"]["data"]["events"]["type"] == "contact.created"
    assert message["payload"]["extensions"] == {"cost": {"requested": 1, "budget": DEFAULT_BUDGET}}
