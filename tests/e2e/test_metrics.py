"""`/metrics` as Prometheus scrapes it: refused without the token, absent without the setting,
and its series move when the API serves requests, a message is queued, relayed and sent.
(The worker's own listener, with the Temporal SDK's metrics, is scraped in
tests/e2e/test_concurrent_writes.py, where a real `crm worker` process runs.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from crm.settings import Settings
from db.event_signals import is_postgres_url
from tests.e2e.conftest import Api, make_settings, open_api
from tests.e2e.test_event_subscriptions import create_contact, following, head_cursor, next_event
from tests.e2e.test_message_templates_api import create, publish
from tests.e2e.test_messages_api import OFFER, a_contact, delivered, send
from tests.fixtures.flows import Flows

TOKEN = "scrape-secret-for-tests"
SCRAPE = {"authorization": f"Bearer {TOKEN}"}


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in a scrape (0 when absent), summed over unnamed labels."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for series in family.samples:
            if series.name == name and all(series.labels.get(k) == v for k, v in labels.items()):
                total += series.value
    return total


async def scrape(api: Api) -> str:
    response = await api.client.get("/metrics", headers=SCRAPE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


@pytest.fixture
async def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, metrics_token=TOKEN)


async def test_a_scrape_without_the_token_is_refused(api: Api) -> None:
    anonymous = await api.client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert "crm_" not in anonymous.text
    # A user's own access token is no scrape token.
    as_user = await api.client.get("/metrics", headers=api.headers())
    assert as_user.status_code == 401


async def test_without_the_setting_there_is_no_metrics_page(
    database_url: str, tmp_path: Path
) -> None:
    async with open_api(make_settings(database_url, tmp_path)) as api:
        assert (await api.client.get("/metrics", headers=SCRAPE)).status_code == 404


REQUESTS = "crm_http_request_duration_seconds_count"


async def test_requests_the_outbox_and_sent_messages_move_their_series(
    api: Api, sending: Flows, settings: Settings
) -> None:
    assert (await create(api, **OFFER))["errors"] == []
    assert (await publish(api, "spring-offer"))["errors"] == []
    contact_id = await a_contact(api)
    before = await scrape(api)

    sent = await send(api, recordId=contact_id, template="spring-offer")
    assert sent["errors"] == []
    invalid = await api.post({"query": "{ noSuchField }"})
    assert invalid.status_code == 200
    queued = await scrape(api)

    labels: dict[str, Any] = {"route": "/graphql", "method": "POST", "status": "200"}
    sends = dict(labels, operation="mutation sendMessage")
    assert sample(queued, REQUESTS, **sends) == sample(before, REQUESTS, **sends) + 1
    # A document that did not validate has no root field: its operation label stays bounded.
    assert sample(queued, REQUESTS, **dict(labels, operation="query")) >= 1
    assert sample(queued, "crm_outbox_backlog") >= 1
    assert sample(queued, "crm_outbox_oldest_age_seconds") >= 0

    await delivered(sending, sent["message"]["id"])
    done = await scrape(api)
    assert sample(done, "crm_outbox_backlog") == 0
    assert sample(done, "crm_outbox_oldest_age_seconds") == 0
    relayed = "crm_outbox_relayed_total"
    assert sample(done, relayed, outcome="delivered") > sample(queued, relayed, outcome="delivered")
    messages = "crm_messages_total"
    assert sample(done, messages, status="sent") == sample(queued, messages, status="sent") + 1
    if is_postgres_url(settings.database_url):
        pool = "crm_database_pool_connections"
        opened = sample(done, pool, state="in_use") + sample(done, pool, state="idle")
        assert sample(done, pool, state="max") >= opened >= 1
    # No label holds an id, an address or a client's own operation name.
    for family in text_string_to_metric_families(done):
        if family.name.startswith("crm_"):
            for series in family.samples:
                for value in series.labels.values():
                    assert "@" not in value, series
                    assert contact_id not in value, series


async def test_an_event_offered_to_a_subscriber_is_timed_from_its_commit(api: Api) -> None:
    lag = "crm_event_fan_out_lag_seconds_count"
    async with following(api, api.token, {"after": await head_cursor()}) as ws:
        # The subscribe message has no acknowledgement: an event committed before the
        # subscription joined the live feed is replayed from the cursor, untimed. Once the
        # first event arrives the subscriber is in the feed, so the second is timed.
        await create_contact(api, "Ada")
        assert (await next_event(ws))["type"] == "contact.created"
        before = sample(await scrape(api), lag)
        await create_contact(api, "Grace")
        assert (await next_event(ws))["type"] == "contact.created"
    assert sample(await scrape(api), lag) > before
