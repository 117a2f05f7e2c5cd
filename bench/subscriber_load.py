"""Many live subscribers (graphql-transport-ws over loopback) on `crm serve`: how soon each one
has a committed change, the server's CPU time per delivery and its memory per subscriber.

The subscribers connect in batches, sign in with the benchmark admin's token and subscribe to
`events`; then a writer creates contacts one at a time, each after every subscriber has the
one before. A delivery's latency runs from sending the mutation (its commit comes before its
answer) to the subscriber reading the event, so it includes the mutation and the client's own
work on the same cores. With `api_workers` 2 (PostgreSQL), the subscribers are spread over the
processes by the kernel and a change made through one reaches the others by LISTEN/NOTIFY.

The subscribers are plain `websockets` connections (no compression, no client pings: the
server pings), the leanest Python client at hand: httpx-ws (anyio memory streams, a reader and
a pinger task per socket, frames masked in Python) spent more CPU reading 1,000 sockets than
the server spent writing them, and the two share the machine's cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

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
    # The API's CPU time (user + system, its processes together) while the changes were made
    # and delivered, less the same number of changes made with nobody subscribed, over the
    # deliveries: the server's cost of one delivery, the client's and the mutation's excluded.
    server_cpu_us_per_delivery: float | None = None
    goal_p99_ms: float = GOAL_P99_MS

    @property
    def kib_per_subscriber(self) -> float | None:
        if self.server_mib_before is None or self.server_mib_after is None:
            return None
        return round((self.server_mib_after - self.server_mib_before) * 1024 / self.subscribers, 1)


def _process_tree(root_pid: int) -> list[int]:
    """The process and every process under it (uvicorn workers)."""
    pids, found = [root_pid], []
    while pids:
        pid = pids.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids += [int(child) for child in task.read_text().split()]
    return found


def server_mib(root_pid: int) -> float | None:
    """Resident memory of the API: its process and every process under it (uvicorn workers)."""
    sizes = [process_mib(pid, "VmRSS") for pid in _process_tree(root_pid)]
    known = [size for size in sizes if size is not None]
    return round(sum(known), 1) if known else None


def server_cpu_seconds(root_pid: int) -> float | None:
    """CPU time (user + system) the API's processes have used so far (Linux `/proc/<pid>/stat`)."""
    total, found = 0.0, False
    for pid in _process_tree(root_pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime and stime are the 14th and 15th fields; the split starts at the 3rd.
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        found = True
    return total if found else None


async def _subscriber(
    ws_url: str,
    token: str,
    ready: asyncio.Semaphore,
    arrivals: dict[str, list[float]],
) -> None:
    """One subscriber: connects, signs in, subscribes (then releases `ready`) and notes when
    each contact's creation arrives, until cancelled."""
    ws: ClientConnection
    async with connect(
        ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        open_timeout=DELIVERY_TIMEOUT,
    ) as ws:
        auth = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": auth}))
        async with asyncio.timeout(DELIVERY_TIMEOUT):
            acknowledged = json.loads(await ws.recv())
        if acknowledged["type"] != "connection_ack":
            raise BenchmarkError("a subscriber was not acknowledged")
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": EVENTS}}))
        ready.release()
        async for raw in ws:
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await ws.send('{"type": "pong"}')
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


def _cpu_per_delivery(
    before: float | None,
    after: float | None,
    alone_before: float | None,
    alone_after: float | None,
    deliveries: int,
) -> float | None:
    """The API's CPU microseconds per delivery: the live phase's, less the changes alone."""
    if before is None or after is None or alone_before is None or alone_after is None:
        return None
    if not deliveries:
        return None
    return round(((after - before) - (alone_after - alone_before)) * 1e6 / deliveries)


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
        ws_url = base_url.replace("http://", "ws://", 1) + "/graphql"
        # The writer connects afresh for each change: a kept-alive connection idle past the
        # server's keep-alive timeout (while subscribers connect) is closed under it.
        fresh = httpx.Limits(max_keepalive_connections=0)

        async def create_contacts(prefix: str, count: int) -> list[tuple[float, str]]:
            """Contacts, one at a time: when each was sent, and its id; without subscribers
            back to back, else each once every subscriber has the one before."""
            made = []
            for n in range(count):
                sent = time.perf_counter()
                answer = await writer.post(
                    "/graphql",
                    json={"query": CREATE, "variables": {"name": f"{prefix} {n}"}},
                    headers={"authorization": f"Bearer {token}"},
                )
                contact_id = answer.json()["data"]["createContact"]["contact"]["id"]
                made.append((sent, contact_id))
                deadline = sent + DELIVERY_TIMEOUT
                while readers and len(arrivals.get(contact_id, ())) < subscribers:
                    if time.perf_counter() > deadline:
                        raise BenchmarkError(
                            f"{len(arrivals.get(contact_id, ()))} of {subscribers} "
                            f"subscribers had change {n} after {DELIVERY_TIMEOUT} s"
                        )
                    _raise_failure(readers)
                    await asyncio.sleep(0.005)
            return made

        async with (
            httpx.AsyncClient(base_url=base_url, timeout=60) as client,
            httpx.AsyncClient(base_url=base_url, limits=fresh, timeout=60) as writer,
        ):
            token = await sign_in(client, email, password)
            ready = asyncio.Semaphore(0)
            arrivals: dict[str, list[float]] = {}
            readers: list[asyncio.Task[None]] = []
            latencies: list[float] = []
            await create_contacts("Warm-up", 3)
            alone_before = server_cpu_seconds(server)
            await create_contacts("Alone", changes)
            alone_after = server_cpu_seconds(server)
            await asyncio.sleep(1.0)
            before = server_mib(server)
            try:
                for low in range(0, subscribers, CONNECTING_AT_ONCE):
                    batch = range(low, min(low + CONNECTING_AT_ONCE, subscribers))
                    readers += [
                        asyncio.create_task(_subscriber(ws_url, token, ready, arrivals))
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
                cpu_before = server_cpu_seconds(server)
                for sent, contact_id in await create_contacts("Live", changes):
                    latencies += [arrived - sent for arrived in arrivals[contact_id]]
                cpu_after = server_cpu_seconds(server)
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
        server_cpu_us_per_delivery=_cpu_per_delivery(
            cpu_before, cpu_after, alone_before, alone_after, len(latencies)
        ),
    )
