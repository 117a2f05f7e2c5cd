"""Concurrent writes over loopback, with everything that writes beside the API running: `crm
serve` and `crm worker` (flows, outbox and webhook relays) on one database, a Temporal dev
server, and 1, 4 or 16 writers each creating a contact, changing it and marking it Hot, back
to back. Marking Hot starts the contact-conversion flow, whose worker writes a calling task
while the writers go on.

A request refused as `BUSY` (HTTP 503) is counted and sent again after its `Retry-After`, as
a client should; anything else that is not a clean answer is a failure. The goal is none of
either.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from temporalio.testing import WorkflowEnvironment

from bench.client import BenchmarkError, sign_in
from bench.concurrent_load import served_app
from bench.timings import Timing, timing
from crm.dev_stack import find_temporal_binary
from crm.settings import REPO_ROOT

CREATE = """
mutation Create($input: CreateContactInput!) {
  createContact(input: $input) { contact { id } errors { code message } }
}"""
UPDATE = """
mutation Update($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { id } errors { code message } }
}"""
MARK_HOT = """
mutation Hot($id: ID!) {
  transitionContact(input: {id: $id, event: MARK_HOT}) { contact { id } errors { code message } }
}"""
MAX_BUSY_RETRIES = 10
WRITER_COUNTS = (1, 4, 16)


@dataclass(frozen=True)
class WriteLoadResult:
    writers: int
    seconds: float
    requests: int  # answered requests (each a create, an update or a transition)
    busy: int  # answers of BUSY, each sent again
    failures: int
    first_failure: str | None
    writes_per_second: float
    latency: Timing
    # `createContact` alone, as its client waits for it (a BUSY answer's retry included).
    create_latency: Timing


@dataclass(frozen=True)
class WriteLoad:
    """A run's figures and the contacts it made (each created, updated and marked Hot)."""

    result: WriteLoadResult
    contact_ids: list[str]


class WriteFailed(Exception):
    """A write answered with anything but success (or BUSY, which is retried)."""


class Writer:
    """One client writing back to back; counts its BUSY answers and keeps its latencies."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"authorization": f"Bearer {token}"}
        self.latencies: list[float] = []
        self.create_latencies: list[float] = []
        self.busy = 0

    async def write(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The mutation's payload; BUSY is waited out and retried, anything else raises."""
        for _ in range(MAX_BUSY_RETRIES + 1):
            sent = time.perf_counter()
            response = await self.client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=self.headers
            )
            self.latencies.append(time.perf_counter() - sent)
            if response.status_code == 503 and _codes(response) == {"BUSY"}:
                self.busy += 1
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                continue
            body = response.json() if response.status_code == 200 else None
            if body is None or body.get("errors"):
                raise WriteFailed(f"HTTP {response.status_code}: {response.text[:300]}")
            payload: dict[str, Any] = next(iter(body["data"].values()))
            if payload["errors"]:
                raise WriteFailed(f"user errors: {payload['errors']}")
            return payload
        raise WriteFailed(f"still BUSY after {MAX_BUSY_RETRIES} retries")

    async def contact_lifecycle(self) -> str:
        """Create a contact (tagged), change it, mark it Hot; its id."""
        mark = uuid.uuid4().hex[:10]
        fields = {"firstName": f"W{mark}", "emails": [f"{mark}@example.com"], "tags": ["load"]}
        sent = time.perf_counter()
        created = await self.write(CREATE, {"input": fields})
        self.create_latencies.append(time.perf_counter() - sent)
        contact_id: str = created["contact"]["id"]
        await self.write(UPDATE, {"input": {"id": contact_id, "jobTitle": "Buyer"}})
        await self.write(MARK_HOT, {"id": contact_id})
        return contact_id


def _codes(response: httpx.Response) -> set[str]:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        return {error["extensions"]["code"] for error in response.json()["errors"]}
    return set()


async def fire_writes(
    base_url: str, email: str, password: str, writers: int, seconds: float
) -> WriteLoad:
    """`writers` clients run contact lifecycles back to back for `seconds`."""
    limits = httpx.Limits(max_connections=writers, max_keepalive_connections=writers)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        token = await sign_in(client, email, password)
        clients = [Writer(client, token) for _ in range(writers)]
        contact_ids: list[str] = []
        failures: list[str] = []
        started = time.perf_counter()
        deadline = started + seconds

        async def run(writer: Writer) -> None:
            while time.perf_counter() < deadline:
                try:
                    contact_ids.append(await writer.contact_lifecycle())
                except (WriteFailed, httpx.HTTPError) as failure:
                    failures.append(f"{type(failure).__name__}: {failure}")

        await asyncio.gather(*(run(writer) for writer in clients))
        elapsed = time.perf_counter() - started
    latencies = [latency for writer in clients for latency in writer.latencies]
    creates = [latency for writer in clients for latency in writer.create_latencies]
    if not creates:
        raise BenchmarkError(f"no write was answered in {seconds} s")
    result = WriteLoadResult(
        writers=writers,
        seconds=round(elapsed, 3),
        requests=len(latencies),
        busy=sum(writer.busy for writer in clients),
        failures=len(failures),
        first_failure=failures[0] if failures else None,
        writes_per_second=round(len(latencies) / elapsed, 2),
        latency=timing(latencies),
        create_latency=timing(creates),
    )
    return WriteLoad(result, contact_ids)


def temporal_config_for(workdir: Path, run: str) -> Path:
    """`temporal.yaml` with task queues of this run's own, so a shared Temporal server's other
    workers never take its tasks."""
    document: dict[str, Any] = yaml.safe_load((REPO_ROOT / "temporal.yaml").read_text())
    queues: dict[str, str] = document["temporal"]["task_queues"]
    document["temporal"]["task_queues"] = {name: f"{queue}-{run}" for name, queue in queues.items()}
    path = workdir / f"temporal-{run}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def worker_environment(
    database_url: str, workdir: Path, temporal_address: str, config: Path
) -> dict[str, str]:
    """The environment of a `crm worker` of the benchmark's own (the sleeping flows, the SLA
    clocks): its database, folder, Temporal server and `temporal_config_for` file."""
    return {
        "CRM_DATABASE_URL": database_url,
        "CRM_DATA_DIR": str(workdir),
        "CRM_TEMPORAL_ADDRESS": temporal_address,
        "CRM_TEMPORAL_CONFIG": str(config),
        "CRM_LOG_LEVEL": "INFO",
    }


@contextlib.asynccontextmanager
async def writing_stack(
    database_url: str,
    workdir: Path,
    temporal_address: str,
    settings: Mapping[str, str] | None = None,
) -> AsyncIterator[str]:
    """`crm serve` and `crm worker` on the database and Temporal server; the API's URL."""
    config = temporal_config_for(workdir, uuid.uuid4().hex[:8])
    async with served_app(
        database_url,
        workdir,
        temporal_address=temporal_address,
        temporal_config=config,
        with_worker=True,
        settings=settings,
    ) as base_url:
        yield base_url


async def write_benchmark(
    database_url: str,
    workdir: Path,
    email: str,
    password: str,
    seconds: float,
    writer_counts: Sequence[int] = WRITER_COUNTS,
) -> list[WriteLoadResult]:
    """Each writer count in turn against one running stack, on a Temporal dev server of the
    benchmark's own."""
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_binary()),
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
    )
    async with environment:
        address = environment.client.service_client.config.target_host
        async with writing_stack(database_url, workdir, address) as base_url:
            return [
                (await fire_writes(base_url, email, password, writers, seconds)).result
                for writers in writer_counts
            ]
