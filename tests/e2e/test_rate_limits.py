"""Rate limits per caller as a client meets them: a burst gets exactly its limit through, the
next request is a 429 with `Retry-After` and the code `RATE_LIMITED`; the expensive query is
refused by the cost budget or, under a raised budget, by the cost a minute; users and API keys
count apart; API processes on one PostgreSQL count together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.app import create_app
from crm.graphql_http import GRAPHQL_RESPONSE_JSON, JSON
from crm.settings import Settings
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Api, make_settings, open_api
from tests.e2e.test_auth import CREATE_KEY
from tests.e2e.test_event_subscriptions import following, refusal
from tests.e2e.test_query_cost import ATTACK, post_counting_statements
from tests.e2e.test_query_counts import seed

CONTACTS = {"query": "{ contacts(first: 5) { edges { node { firstName } } } }"}


async def fresh_window() -> None:
    """Wait out the last seconds of a minute, so a burst is not split by a window's end."""
    second = datetime.now(UTC).timestamp() % 60
    if second > 58:
        await asyncio.sleep(60.2 - second)


def assert_rate_limited(response: httpx.Response, media_type: str, limit: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith(media_type)
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED", error
    assert error["extensions"]["limit"] == limit
    assert error["extensions"]["retryAfter"] == retry_after


@asynccontextmanager
async def limited_api(database_url: str, tmp_path: Path, **limits: Any) -> AsyncIterator[Api]:
    async with open_api(make_settings(database_url, tmp_path, **limits)) as api:
        yield api


async def test_a_burst_gets_exactly_the_limit_through_and_the_next_is_a_429(
    database_url: str, tmp_path: Path
) -> None:
    async with limited_api(database_url, tmp_path, rate_requests_per_minute=5) as api:
        await fresh_window()
        answers = [await api.post(CONTACTS) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5, answers[-1].text

        for media_type in (GRAPHQL_RESPONSE_JSON, JSON):
            refused = await api.post(CONTACTS, headers={"accept": media_type})
            assert_rate_limited(refused, media_type, "requests")

        # Another caller (anonymous, counted by address) has a limit of its own.
        anonymous = await api.as_(None).post({"query": "{ __typename }"})
        assert anonymous.status_code == 200, anonymous.text


async def test_the_expensive_query_is_refused_by_its_cost_a_minute_under_a_raised_budget(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    limits = {"max_query_cost": 1_000_000, "rate_cost_per_minute": 100_000}
    async with limited_api(database_url, tmp_path, **limits) as api:
        await seed(3)
        key = (await api.graphql(CREATE_KEY, {"scopes": ["READ"]}))["createApiKey"]["secret"]
        _, baseline = await post_counting_statements(api, caplog, "{ noSuchField }")
        started = time.monotonic()
        refused, issued = await post_counting_statements(api, caplog, ATTACK)

        assert_rate_limited(refused, GRAPHQL_RESPONSE_JSON, "cost")
        # Refused before any resolver ran: only the counters were written.
        assert issued <= baseline + 2, f"{issued} SQL statements, {baseline} for a request error"
        assert time.monotonic() - started < 2.0
        # The same user's cheap page waits for the next window now; an API key counts apart.
        assert (await api.post(CONTACTS)).status_code == 429
        by_key = await api.as_(key).post(CONTACTS)
        assert by_key.status_code == 200, by_key.text
        assert by_key.json()["extensions"]["cost"]["requested"] > 0


async def test_a_subscription_counts_as_a_request(database_url: str, tmp_path: Path) -> None:
    async with limited_api(database_url, tmp_path, rate_requests_per_minute=2) as api:
        await fresh_window()
        for _ in range(2):
            assert (await api.post(CONTACTS)).status_code == 200
        async with following(api, api.token) as ws:
            assert await refusal(ws) == "RATE_LIMITED"


@asynccontextmanager
async def another_process(settings: Settings) -> AsyncIterator[Api]:
    """A second API app on the same database, as another process would be."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
            yield await Api(client, app).sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.mark.parametrize("database_source", ["postgres"], indirect=True)
async def test_api_processes_on_one_postgresql_share_the_limit(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, rate_requests_per_minute=6)
    async with open_api(settings) as first, another_process(settings) as second:
        await fresh_window()
        answers = [await (first if i % 2 else second).post(CONTACTS) for i in range(6)]
        assert [a.status_code for a in answers] == [200] * 6, answers[-1].text
        assert_rate_limited(await first.post(CONTACTS), JSON, "requests")
        assert_rate_limited(await second.post(CONTACTS), JSON, "requests")
