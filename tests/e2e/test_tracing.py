"""One trace follows a request: from the HTTP request through its GraphQL operation and SQL,
the outbox row it wrote, the relay, the Temporal workflow and its activity, to the SMTP call;
the request log line and the trace share the request id. Spans go to an in-memory exporter."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from crm.settings import Settings
from crm.tracing import start_tracing, stop_tracing, tracing_interceptors
from domain import tracing
from tests.e2e.conftest import Api, make_settings
from tests.e2e.test_message_templates_api import create, publish
from tests.e2e.test_messages_api import OFFER, SEND, a_contact, delivered
from tests.fixtures.flows import Flows

REQUEST_ID = "trace-me-0001"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = start_tracing(SimpleSpanProcessor(exporter), "crm-test")
    try:
        yield exporter
    finally:
        stop_tracing(provider)


@pytest.fixture
async def settings(spans: InMemorySpanExporter, database_url: str, tmp_path: Path) -> Settings:
    """The app is made after tracing starts (its schema then traces operations)."""
    return make_settings(database_url, tmp_path)


def names(spans: list[ReadableSpan]) -> list[str]:
    return [span.name for span in spans]


async def test_one_trace_spans_the_request_the_workflow_its_activity_and_the_smtp_call(
    api: Api, sending: Flows, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await create(api, **OFFER))["errors"] == []
    assert (await publish(api, "spring-offer"))["errors"] == []
    contact_id = await a_contact(api)
    spans.clear()

    with caplog.at_level(logging.INFO, logger="crm.api"):
        response = await api.post(
            {
                "query": SEND,
                "variables": {"input": {"recordId": contact_id, "template": OFFER["key"]}},
            },
            headers={"x-request-id": REQUEST_ID},
        )
    assert response.status_code == 200, response.text
    sent: dict[str, Any] = response.json()["data"]["sendMessage"]
    assert sent["errors"] == []

    # The relay and the worker on a client with the SDK's tracing interceptor, as in `crm worker`.
    config = sending.client.config()
    config["interceptors"] = tracing_interceptors()
    traced = Client(**config)
    await delivered(dataclasses.replace(sending, client=traced), sent["message"]["id"])

    finished = list(spans.get_finished_spans())
    [request] = [
        s for s in finished if s.attributes and s.attributes.get("crm.request_id") == REQUEST_ID
    ]
    assert request.name == "POST /graphql"
    assert request.context is not None
    trace_id = request.context.trace_id
    in_trace = [s for s in finished if s.context is not None and s.context.trace_id == trace_id]
    seen = names(in_trace)
    for expected in (
        "graphql mutation sendMessage",
        "outbox relay deliver_message",
        "StartWorkflow:DeliverMessage",
        "RunWorkflow:DeliverMessage",
        "smtp send",
    ):
        assert expected in seen, f"{expected!r} not in the trace: {seen}"
    assert any(name.startswith("RunActivity:") for name in seen), seen
    statements = [s for s in in_trace if s.attributes and s.attributes.get("db.system")]
    assert statements, seen
    # SQL is recorded without its parameters (personal data).
    assert not any("grace@example.com" in str(s.attributes) for s in in_trace)

    [line] = [r for r in caplog.records if getattr(r, "request_id", None) == REQUEST_ID]
    assert getattr(line, "trace_id", None) == format(trace_id, "032x")


async def test_without_tracing_nothing_is_recorded_and_no_context_is_carried() -> None:
    assert not tracing.enabled()
    with tracing.span("nothing") as span:
        assert span is None
        assert tracing.with_trace({"a": 1}) == {"a": 1}
        assert tracing.current_trace_id() is None
