"""Many live subscribers (graphql-transport-ws over loopback) on `crm serve`: how soon each one
has a committed change, and the server's memory per subscriber.

The subscribers connect in batches, sign in with the benchmark admin's token and subscribe to
`events`; then a writer creates contacts one at a time, each after every subscriber has the
one before. A delivery's latency runs from sending the mutation (its commit comes before its
answer) to the subscriber reading the event, so it includes the mutation and the client's own
work on the same cores. With `api_workers` 2 (PostgreSQL), the subscribers are spread over the
processes by the kernel and a change made through one reaches the others by LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from bench.broadcast_load import process_mib
from bench.client import BenchmarkError, sign_in
from bench.concurrent_load import served_app
from bench.timings import percentile

SUBSCRIBERS = 1_000
CHANGES = 10
CONNECTING_AT_ONCE = 50
DELIVERY_TIMEOUT = 30.0
GOAL_P99_MS = 200.0
EVENTS = """
subscription Follow { events { id type nodeId } }"""
CREATE = """
mutation Create($name: String!) {
  createContact(input: {firstName: $name}) { contact { id } errors { code } }
}"""


@dataclass(frozen=True)
class SubscriberResult:
    api_workers: int
    subscribers: int
    changes: int
    deliveries: int  # of subscribers x changes
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_mib_before: float | None
    server_mib_after: float | None  # every subscriber connected
    goal_p99_ms: float = GOAL_P99_MS

    @property
    def kib_per_subscriber(self) -> float | None:
        if self.server_mib_before is None or self.server_mib_after is None:
            return None
        return round((self.server_mib_after - self.server_mib_before) * 1024 / self.subscribers, 1)


def server_mib(root_pid: int) -> float | None:
    """Resident memory of the API: its process and every process under it (uvicorn workers)."""
    pids, found, total = [root_pid], 0, 0.0
    while pids:
        pid = pids.pop()
        rss = process_mib(pid, "VmRSS")
        if rss is not None:
            total, found = total + rss, found + 1
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids += [int(child) for child in task.read_text().split()]
    return round(total, 1) if found else None


async def _subscriber(
    client: httpx.AsyncClient,
    token: str,
    ready: asyncio.Semaphore,
    arrivals: dict[str, list[float]],
) -> None:
    """One subscriber: connects, signs in, subscribes (then releases `ready`) and notes when
    each contact's creation arrives, until cancelled. Its websocket is opened and closed in
    its own task, as httpx-ws (anyio) requires."""
    connecting: contextlib.AbstractAsyncContextManager[AsyncWebSocketSession] = aconnect_ws(
        "/graphql", client, subprotocols=["graphql-transport-ws"]
    )
    async with connecting as ws:
        auth = {"Authorization": f"Bearer {token}"}
        await ws.send_json({"type": "connection_init", "payload": auth})
        if (await ws.receive_json(timeout=DELIVERY_TIMEOUT))["type"] != "connection_ack":
            raise BenchmarkError("a subscriber was not acknowledged")
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}})
        ready.release()
        while True:
            message: dict[str, Any] = await ws.receive_json()
            if message["type"] == "ping":
                await ws.send_json({"type": "pong"})
            elif message["type"] == "next":
                event = message["payload"]["data"]["events"]
                if event["type"] == "contact.created":
                    arrivals.setdefault(event["nodeId"], []).append(time.perf_counter())
            elif message["type"] in ("error", "complete"):
                raise BenchmarkError(f"a subscription ended: {message}")


def _raise_failure(readers: list[asyncio.Task[None]]) -> None:
    """A subscriber's failure, rather than waiting on without it."""
    for reader in readers:
        if reader.done() and not reader.cancelled() and reader.exception() is not None:
            raise BenchmarkError(f"a subscriber failed: {reader.exception()!r}")


async def subscriber_benchmark(
    database_url: str,
    workdir: Path,
    email: str,
    password: str,
    subscribers: int = SUBSCRIBERS,
    changes: int = CHANGES,
    api_workers: int = 1,
) -> SubscriberResult:
    settings = {"CRM_SUBSCRIPTION_POLL_SECONDS": "600"} if api_workers > 1 else {}
    pids: list[int] = []
    async with served_app(
        database_url, workdir, api_workers=api_workers, settings=settings, server_pids=pids
    ) as base_url:
        [server] = pids
        limits = httpx.Limits(max_connections=subscribers + 10)
        # The writer connects afresh for each change: a kept-alive connection idle past the
        # server's keep-alive timeout (while subscribers connect) is closed under it.
        fresh = httpx.Limits(max_keepalive_connections=0)
        async with (
            httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client,
            httpx.AsyncClient(base_url=base_url, limits=fresh, timeout=60) as writer,
        ):
            token = await sign_in(client, email, password)
            await asyncio.sleep(1.0)
            before = server_mib(server)
            ready = asyncio.Semaphore(0)
            arrivals: dict[str, list[float]] = {}
            readers: list[asyncio.Task[None]] = []
            latencies: list[float] = []
            try:
                for low in range(0, subscribers, CONNECTING_AT_ONCE):
                    batch = range(low, min(low + CONNECTING_AT_ONCE, subscribers))
                    readers += [
                        asyncio.create_task(_subscriber(client, token, ready, arrivals))
                        for _ in batch
                    ]
                    for _ in batch:
                        try:
                            async with asyncio.timeout(DELIVERY_TIMEOUT):
                                await ready.acquire()
                        except TimeoutError:
                            _raise_failure(readers)
                            raise

                await asyncio.sleep(1.0)  # every subscription registered with the server
                after = server_mib(server)
                for n in range(changes):
                    sent = time.perf_counter()
                    answer = await writer.post(
                        "/graphql",
                        json={"query": CREATE, "variables": {"name": f"Live {n}"}},
                        headers={"authorization": f"Bearer {token}"},
                    )
                    contact_id = answer.json()["data"]["createContact"]["contact"]["id"]
                    deadline = sent + DELIVERY_TIMEOUT
                    while len(arrivals.get(contact_id, ())) < subscribers:
                        if time.perf_counter() > deadline:
                            raise BenchmarkError(
                                f"{len(arrivals.get(contact_id, ()))} of {subscribers} "
                                f"subscribers had change {n} after {DELIVERY_TIMEOUT} s"
                            )
                        _raise_failure(readers)
                        await asyncio.sleep(0.005)
                    latencies += [arrived - sent for arrived in arrivals[contact_id]]
            finally:
                for reader in readers:
                    reader.cancel()
                await asyncio.gather(*readers, return_exceptions=True)
    return SubscriberResult(
        api_workers=api_workers,
        subscribers=subscribers,
        changes=changes,
        deliveries=len(latencies),
        p50_ms=round(percentile(latencies, 50) * 1000, 1),
        p99_ms=round(percentile(latencies, 99) * 1000, 1),
        max_ms=round(max(latencies) * 1000, 1),
        server_mib_before=before,
        server_mib_after=after,
    )
