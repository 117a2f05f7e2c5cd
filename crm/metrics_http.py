"""`/metrics` for Prometheus, on the API and on the worker; never public.

The API serves it on its own port only when `CRM_METRICS_TOKEN` is set, and only to a scrape
that sends it (`Authorization: Bearer <token>`); without the setting the path does not exist.
The worker has no HTTP port of its own: `CRM_WORKER_METRICS_ADDRESS` (`host:port`, best a
private interface) opens one for `/metrics`, which asks for the token too when it is set.
The worker's page adds the Temporal SDK's own runtime metrics (its Prometheus exporter listens
on a loopback port of its own, `temporal_metrics_address`, read at scrape time), so one
scrape config covers the process.

Gauges read from the database (the outbox backlog and its oldest message, the connection
pool) are refreshed when scraped: nothing runs between scrapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from tortoise import connections

from db.outbox import OutboxMessage
from domain.metrics import DATABASE_POOL, OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE
from domain.outbox import OutboxStatus

log = logging.getLogger("crm.metrics")


async def refresh_database_gauges() -> None:
    """Read the outbox backlog and the connection pool into their gauges."""
    pending = OutboxMessage.filter(status=OutboxStatus.PENDING)
    OUTBOX_BACKLOG.set(await pending.count())
    oldest = await pending.order_by("created_at").first()
    age = (datetime.now(UTC) - oldest.created_at).total_seconds() if oldest else 0.0
    OUTBOX_OLDEST_AGE.set(max(0.0, age))
    pool = getattr(connections.get("default"), "_pool", None)  # asyncpg's; SQLite has none
    if pool is not None:
        size, idle = pool.get_size(), pool.get_idle_size()
        DATABASE_POOL.labels("in_use").set(size - idle)
        DATABASE_POOL.labels("idle").set(idle)
        DATABASE_POOL.labels("max").set(pool.get_max_size())


def authorised(request: Request, token: SecretStr) -> bool:
    expected = token.get_secret_value()
    if not expected:
        return True
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())


class MetricsPage:
    """The `/metrics` endpoint: the token checked, database gauges refreshed, then the text
    exposition of this process's registry (and `extra`, e.g. Temporal's own metrics)."""

    def __init__(
        self, token: SecretStr, extra: Callable[[], Awaitable[bytes]] | None = None
    ) -> None:
        self.token = token
        self.extra = extra

    async def show(self, request: Request) -> Response:
        if not authorised(request, self.token):
            return PlainTextResponse(
                "Metrics need `Authorization: Bearer <CRM_METRICS_TOKEN>`.",
                status_code=401,
                headers={"www-authenticate": "Bearer"},
            )
        try:
            await refresh_database_gauges()
        except Exception:  # the database away: still serve what the process knows
            log.warning("metrics: database gauges not refreshed", exc_info=True)
        body = generate_latest(REGISTRY)
        if self.extra is not None:
            body += await self.extra()
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def free_loopback_address() -> str:
    """A loopback `host:port` nothing listens on now, for Temporal's metrics exporter."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


def temporal_metrics(address: str) -> Callable[[], Awaitable[bytes]]:
    """Read the Temporal SDK's Prometheus page (the runtime's exporter at `address`)."""

    async def read() -> bytes:
        try:
            async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
                response = await client.get(f"http://{address}/metrics")
            return response.content
        except httpx.HTTPError as error:
            log.warning("metrics: Temporal runtime metrics unreadable: %s", error)
            return b""

    return read


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


async def serve_metrics(address: str, page: MetricsPage, stop: asyncio.Event) -> None:
    """Serve `/metrics` alone on `address` until `stop` is set (the worker's listener)."""
    host, port = split_address(address)
    app = Starlette(routes=[Route("/metrics", page.show, methods=["GET"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="off")
    )

    async def serve() -> None:
        try:
            await server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind: the worker itself goes on
            log.error("metrics listener could not start", extra={"address": address})

    serving = asyncio.create_task(serve(), name="metrics-listener")
    with contextlib.suppress(asyncio.CancelledError):
        await stop.wait()
    server.should_exit = True
    await serving
