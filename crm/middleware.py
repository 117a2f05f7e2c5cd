"""ASGI middleware: request ids with one access-log line per request, and a body-size limit."""

from __future__ import annotations

import logging
import re
import time
import uuid

from opentelemetry.trace import SpanKind
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.context import TortoiseContext, _current_context

from domain import tracing
from domain.metrics import REQUEST_SECONDS
from domain.public_pages import SIGNED_PATHS
from domain.signed_links import fingerprint
from schema.observability import RequestLog, current_request

log = logging.getLogger("crm.api")

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SECRET_PATH_PREFIXES = tuple(path.removesuffix("{token}") for path in SIGNED_PATHS)


def logged_path(path: str) -> str:
    """The path as logged: a link's token (`/unsubscribe/<token>`, `/book/<token>`) is a
    credential, so only its fingerprint is written."""
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix):
            return prefix + fingerprint(path.removeprefix(prefix))
    return path


class RequestLogMiddleware:
    """Give every request an id (the client's `X-Request-ID` if well-formed), return it in a
    header, and log one line when the response ends: method, path, status, duration, operation.

    Query strings are not logged: they can carry variables with personal data.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        supplied = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = supplied if _CLIENT_REQUEST_ID.match(supplied) else uuid.uuid4().hex
        entry = RequestLog(request_id=request_id)
        token = current_request.set(entry)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "websocket.accept":
                status = 101
            elif message["type"] == "websocket.close" and status == 500:
                status = 403  # closed before it was accepted
            await send(message)

        method = scope.get("method", "WS")
        extra: dict[str, object] = {}
        # A server span when tracing is on (`crm/tracing.py`), continuing a caller's
        # `traceparent`; it carries the request id, and the log line its trace id.
        with tracing.span(
            f"{method} {scope['path'] if scope['type'] == 'websocket' else 'request'}",
            SpanKind.SERVER,
            {"crm.request_id": request_id, "http.request.method": method},
            parent=traceparent(headers),
        ) as span:
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                current_request.reset(token)
                elapsed = time.perf_counter() - started
                route = getattr(scope.get("route"), "path", "other")
                operation = (
                    f"{entry.operation_type} {entry.root_field or ''}".rstrip()
                    if entry.operation_type
                    else ""
                )
                REQUEST_SECONDS.labels(route, method, str(status), operation).observe(elapsed)
                if span is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    extra["trace_id"] = tracing.current_trace_id()
                log.info(
                    "%s %s %s",
                    method,
                    logged_path(scope["path"]),
                    status,
                    extra={
                        "request_id": request_id,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                        "operation": entry.operation_name,
                        "operation_type": entry.operation_type,
                        **extra,
                    },
                )


def traceparent(headers: dict[bytes, bytes]) -> dict[str, str] | None:
    """A caller's W3C trace context, to continue its trace."""
    given = headers.get(b"traceparent")
    if given is None:
        return None
    carrier = {"traceparent": given.decode("latin-1")}
    if state := headers.get(b"tracestate"):
        carrier["tracestate"] = state.decode("latin-1")
    return carrier


class DatabaseContextMiddleware:
    """Run each request inside the app's Tortoise context.

    The server runs requests in tasks that did not open the database, so the context the
    lifespan opened (kept on `app.state.database`) is made current around every request.
    Not with `with context:`: a TortoiseContext keeps the token to restore on the instance, so
    concurrent requests entering the one context overwrite each other's tokens and fail on
    exit. Each request sets the context variable itself and resets it with its own token.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        context: TortoiseContext | None = getattr(scope["app"].state, "database", None)
        if scope["type"] not in ("http", "websocket") or context is None:
            await self.app(scope, receive, send)
            return
        token = _current_context.set(context)
        try:
            await self.app(scope, receive, send)
        finally:
            _current_context.reset(token)


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, whether declared or streamed.

    Paths under `own_limit_prefixes` (document uploads) stream their bodies and enforce their
    own, larger limit with a typed error, so they are left alone here.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, own_limit_prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.own_limit_prefixes = own_limit_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.own_limit_prefixes):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(
            f"Request body larger than {self.max_bytes} bytes.", status_code=413
        )
        await response(scope, receive, send)
