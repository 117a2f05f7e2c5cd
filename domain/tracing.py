"""The process's tracer: OpenTelemetry spans when tracing is configured, nothing otherwise.

The provider is held here, not installed as OpenTelemetry's global one: the global can be set
once per process, and tests turn tracing on and off again. With no provider every helper
returns at once (no span objects, no context lookups), so tracing that is off costs nothing
measurable. `crm/tracing.py` configures it from the settings.

Trace context crosses the outbox as a W3C `traceparent` carrier in the row's payload
(`carrier()` when writing, `span_from()` when relaying), so one trace follows a request into
the workflow it started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACE_KEY = "trace"  # where an outbox payload carries its trace context
_PROPAGATOR = TraceContextTextMapPropagator()
_provider: TracerProvider | None = None


def use_provider(provider: TracerProvider | None) -> None:
    """Turn tracing on with `provider`, or off with None."""
    global _provider
    _provider = provider


def enabled() -> bool:
    return _provider is not None


def tracer() -> Tracer | None:
    return None if _provider is None else _provider.get_tracer("crm")


@contextlib.contextmanager
def span(
    name: str,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int] | None = None,
    parent: Mapping[str, str] | None = None,
) -> Iterator[trace.Span | None]:
    """A current span while the block runs (None when tracing is off); `parent`: a carrier
    to continue a trace from (see `carrier`)."""
    current = tracer()
    if current is None:
        yield None
        return
    context = _PROPAGATOR.extract(dict(parent)) if parent else None
    with current.start_as_current_span(
        name, context=context, kind=kind, attributes=dict(attributes or {})
    ) as opened:
        yield opened


def carrier() -> dict[str, str]:
    """The current trace context as a W3C carrier; empty when tracing is off or no span."""
    if _provider is None:
        return {}
    values: dict[str, str] = {}
    _PROPAGATOR.inject(values)
    return values


def with_trace(payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox payload with the current trace context, if any."""
    context = carrier()
    return {**payload, TRACE_KEY: context} if context else payload


def trace_of(payload: Mapping[str, Any]) -> Mapping[str, str] | None:
    value = payload.get(TRACE_KEY)
    return value if isinstance(value, dict) else None


def current_trace_id() -> str | None:
    """The current span's trace id in hex, for log lines; None when not tracing."""
    if _provider is None:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
