"""GraphQL over HTTP and websockets as the spec and client apps expect it."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise import Tortoise

from db.contacts import Contact
from tests.e2e.conftest import Api, make_settings, open_api

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
QUERY = 'query Lifecycles { lifecycle(recordType: "Contact") { recordType } }'
ANSWER = {"lifecycle": {"recordType": "Contact"}}
# One object asked for; every response reports its cost against the budget.
COST = {"cost": {"requested": 1, "budget": 50_000}}


async def test_post_with_json_accept_answers_application_json(api: Api) -> None:
    response = await api.post(json={"query": QUERY}, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": ANSWER, "extensions": COST}


async def test_post_with_graphql_response_accept_answers_that_media_type(api: Api) -> None:
    response = await api.post(json={"query": QUERY}, headers={"accept": GRAPHQL_RESPONSE_JSON})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert response.json()["data"] == ANSWER


async def test_get_runs_queries(api: Api) -> None:
    response = await api.client.get(
        "/graphql", params={"query": QUERY}, headers=api.headers(accept=GRAPHQL_RESPONSE_JSON)
    )
    assert response.status_code == 200
    assert response.json()["data"] == ANSWER


async def test_get_refuses_mutations(api: Api) -> None:
    mutation = 'mutation { createContact(input: {firstName: "A"}) { errors { code } } }'
    response = await api.client.get("/graphql", params={"query": mutation}, headers=api.headers())
    assert response.status_code == 405


@pytest.mark.parametrize(
    ("document", "reason"),
    [("{ lifecycles { ", "syntax"), ("{ noSuchField }", "validation")],
)
async def test_request_errors_are_400_with_graphql_response_json(
    api: Api, document: str, reason: str
) -> None:
    response = await api.post(json={"query": document}, headers={"accept": GRAPHQL_RESPONSE_JSON})
    assert response.status_code == 400, reason
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    body = response.json()
    assert "data" not in body  # not even null: nothing was executed
    assert body["errors"]


async def test_request_errors_stay_200_with_legacy_json(api: Api) -> None:
    response = await api.post(
        json={"query": "{ noSuchField }"}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["errors"]


async def test_unacceptable_accept_header_is_406(api: Api) -> None:
    response = await api.post(json={"query": QUERY}, headers={"accept": "text/csv"})
    assert response.status_code == 406


async def test_unparsable_json_body_is_400(api: Api) -> None:
    response = await api.post(content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400


async def test_graphiql_is_served_to_browsers_in_dev(api: Api) -> None:
    response = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


@pytest.fixture
async def strict_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app with small limits, so each limit is easy to cross."""
    settings = make_settings(
        database_url,
        tmp_path,
        max_query_depth=3,
        max_aliases=2,
        max_tokens=60,
        max_body_bytes=2_000,
        introspection=False,
    )
    async with open_api(settings) as opened:
        yield opened


async def errors_of(api: Api, document: str) -> list[str]:
    response = await api.post(json={"query": document}, headers={"accept": GRAPHQL_RESPONSE_JSON})
    assert response.status_code == 400, response.text
    return [e["message"] for e in response.json()["errors"]]


async def test_query_deeper_than_the_limit_is_refused(strict_api: Api) -> None:
    shallow = "{ contacts { edges { node { id } } } }"
    assert "errors" not in (await strict_api.post(json={"query": shallow})).json()
    deep = "{ contacts { edges { node { address { city } } } } }"
    assert any("exceeds maximum operation depth" in m for m in await errors_of(strict_api, deep))


async def test_too_many_aliases_are_refused(strict_api: Api) -> None:
    document = "{ a: lifecycles { diagram } b: lifecycles { diagram } c: lifecycles { diagram } }"
    assert any("aliases" in m for m in await errors_of(strict_api, document))


async def test_too_many_tokens_are_refused(strict_api: Api) -> None:
    document = "{ " + " ".join(["lifecycles { diagram }"] * 20) + " }"
    assert any("token" in m.lower() for m in await errors_of(strict_api, document))


async def test_introspection_can_be_turned_off(strict_api: Api) -> None:
    messages = await errors_of(strict_api, "{ __schema { types { name } } }")
    assert any("introspection" in m.lower() for m in messages)


async def test_body_over_the_limit_is_413_and_nothing_is_written(strict_api: Api) -> None:
    mutation = "mutation($n: String!) { createContact(input: {firstName: $n}) { errors { code } } }"
    response = await strict_api.post(json={"query": mutation, "variables": {"n": "x" * 3_000}})
    assert response.status_code == 413
    assert await Contact.all().count() == 0


async def test_streamed_body_over_the_limit_is_413(strict_api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    response = await strict_api.post(content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_every_response_carries_a_request_id_and_one_log_line(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="crm.api")
    response = await api.post(json={"query": QUERY, "operationName": "Lifecycles"})
    request_id = response.headers["x-request-id"]
    lines = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert len(lines) == 1
    line = lines[0]
    assert line.__dict__["operation"] == "Lifecycles"
    assert line.__dict__["status"] == 200
    assert line.__dict__["duration_ms"] >= 0


async def test_client_request_id_is_kept_when_well_formed(api: Api) -> None:
    kept = await api.client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    replaced = await api.client.get("/healthz", headers={"x-request-id": "bad id\twith tab"})
    assert replaced.headers["x-request-id"] != "bad id\twith tab"


async def test_query_over_graphql_transport_ws(api: Api) -> None:
    async with api.websocket() as ws:
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {api.token}"}}
        )
        assert (await ws.receive_json())["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": QUERY}})
        message = await ws.receive_json()
        assert message == {
            "id": "1",
            "type": "next",
            "payload": {"data": ANSWER, "extensions": COST},
        }
        assert json.loads(json.dumps(await ws.receive_json()))["type"] == "complete"


async def test_unexpected_failure_is_logged_with_request_id_and_masked(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    await Tortoise.get_connection("default").execute_script("DROP TABLE contact")
    caplog.set_level(logging.ERROR, logger="crm.api")
    response = await api.post(json={"query": "{ contacts { edges { cursor } } }"})
    body = response.json()
    request_id = response.headers["x-request-id"]
    assert body["errors"] == [
        {
            "message": "Internal error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["contacts"],
            "extensions": {"code": "INTERNAL", "requestId": request_id},
        }
    ]
    assert "contact" not in json.dumps(body["errors"]).replace('"contacts"', "")
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert logged
    assert logged[0].exc_info is not None
