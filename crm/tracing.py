"""OpenTelemetry traces, off unless configured: an OTLP exporter, SQL spans, Temporal's
interceptor.

Tracing is on when `CRM_OTEL_ENDPOINT` is set (an OTLP/HTTP traces URL, e.g.
`http://127.0.0.1:4318/v1/traces`) or the standard `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is, and `OTEL_SDK_DISABLED` is not true. The service
name is `CRM_OTEL_SERVICE_NAME`, else `OTEL_SERVICE_NAME`, else the process's part
(`crm-api`, `crm-worker`, `crm`); `OTEL_RESOURCE_ATTRIBUTES` adds to it.

A trace follows a request: the HTTP request (`crm/middleware.py`, with the request id as
`crm.request_id`), its GraphQL operation (`schema/extensions.py`), each SQL statement (Tortoise
has no instrumentation: `trace_sql` wraps its clients' execute methods, once tracing starts),
the outbox row it wrote (`domain/tracing.py` carries the context in the payload), the relay's
delivery, the Temporal workflow and its activities (the SDK's `TracingInterceptor`, on the
client that starts workflows and on the worker), and outgoing SMTP and webhook calls.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanProcessor
from opentelemetry.trace import SpanKind
from temporalio.client import Interceptor
from temporalio.contrib.opentelemetry import TracingInterceptor
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.sqlite.client import SqliteClient

from crm.settings import Settings
from domain import tracing

STANDARD_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
SQL_METHODS = ("execute_query", "execute_query_dict", "execute_insert", "execute_many")
MAX_STATEMENT = 2_000


def tracing_configured(settings: Settings) -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(settings.otel_endpoint) or any(os.environ.get(name) for name in STANDARD_ENDPOINTS)


def configure_tracing(settings: Settings, part: str) -> bool:
    """Start exporting traces if the settings ask for it; say whether they do."""
    if not tracing_configured(settings):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=settings.otel_endpoint or None)
    name = settings.otel_service_name or os.environ.get("OTEL_SERVICE_NAME") or part
    start_tracing(BatchSpanProcessor(exporter), name)
    return True


def start_tracing(processor: SpanProcessor, service_name: str = "crm") -> TracerProvider:
    """Trace from now on through `processor` (tests pass an in-memory exporter's)."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    provider.add_span_processor(processor)
    trace_sql()
    tracing.use_provider(provider)
    return provider


def stop_tracing(provider: TracerProvider | None = None) -> None:
    tracing.use_provider(None)
    if provider is not None:
        provider.shutdown()


def exporter_processor(exporter: SpanExporter) -> SpanProcessor:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    return SimpleSpanProcessor(exporter)


def tracing_interceptors() -> Sequence[Interceptor]:
    """The Temporal client's interceptors: the SDK's tracing one while tracing is on (a worker
    built on the client uses it too)."""
    current = tracing.tracer()
    return [] if current is None else [TracingInterceptor(current)]


def _traced(method: Callable[..., Any], system: str) -> Callable[..., Any]:
    @functools.wraps(method)
    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        current = tracing.tracer()
        if current is None:
            return await method(self, query, *args, **kwargs)
        operation = query.lstrip().split(None, 1)[0].upper() if query.strip() else "SQL"
        attributes = {"db.system": system, "db.statement": query[:MAX_STATEMENT]}
        with current.start_as_current_span(
            f"{operation} {system}", kind=SpanKind.CLIENT, attributes=attributes
        ):
            return await method(self, query, *args, **kwargs)

    execute.__crm_traced__ = True  # type: ignore[attr-defined]
    return execute


def trace_sql() -> None:
    """Wrap the SQL clients' execute methods in spans (once per process). Only the statement
    is recorded, never its parameters: those are personal data."""
    for client, system in ((AsyncpgDBClient, "postgresql"), (SqliteClient, "sqlite")):
        for name in SQL_METHODS:
            method = client.__dict__.get(name)
            if method is not None and not getattr(method, "__crm_traced__", False):
                setattr(client, name, _traced(method, system))
