"""Requests per second under concurrent load: the real app served by uvicorn in its own process
on a loopback port, and an httpx client firing the contacts page from many tasks at once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.client import BenchmarkError, contacts_page, sign_in
from bench.load import ADMIN_EMAIL, ADMIN_PASSWORD
from bench.timings import Timing, timing
from crm.settings import REPO_ROOT

STARTUP_SECONDS = 60.0
# A port nothing listens on: the read benchmark needs no Temporal server.
UNREACHABLE_TEMPORAL = "127.0.0.1:9"
# What `crm worker` logs once it polls its task queue.
WORKER_STARTED = "worker started"


@dataclass(frozen=True)
class LoadResult:
    seconds: float
    concurrency: int
    requests: int
    failures: int
    first_failure: str | None
    requests_per_second: float
    latency: Timing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def load_result(
    latencies: list[float], failures: list[str], elapsed: float, concurrency: int
) -> LoadResult:
    """A load run's summary; a run in which no request succeeded measured nothing."""
    if not latencies:
        raise BenchmarkError(f"no request succeeded ({len(failures)} failed): {failures[:1]}")
    return LoadResult(
        seconds=round(elapsed, 3),
        concurrency=concurrency,
        requests=len(latencies),
        failures=len(failures),
        first_failure=failures[0] if failures else None,
        requests_per_second=round(len(latencies) / elapsed, 2),
        latency=timing(latencies),
    )


@contextlib.asynccontextmanager
async def served_app(
    database_url: str,
    workdir: Path,
    *,
    temporal_address: str = UNREACHABLE_TEMPORAL,
    temporal_config: Path | None = None,
    with_worker: bool = False,
    settings: Mapping[str, str] | None = None,
    api_workers: int = 1,
    server_pids: list[int] | None = None,
) -> AsyncIterator[str]:
    """`crm serve` on the database in a subprocess (`api_workers` uvicorn processes, request
    logs off), and `crm worker` beside it if asked (its outbox and webhook relays write to the
    same database); yields the API's base URL once both are up, and stops them on exit.
    `settings` adds `CRM_*` variables to both; `server_pids`, if given, receives the API's
    process id."""
    port = free_port()
    env = {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "CRM_DATA_DIR": str(workdir),
        "CRM_API_HOST": "127.0.0.1",
        "CRM_API_PORT": str(port),
        "CRM_TEMPORAL_ADDRESS": temporal_address,
        # One log line per request would be part of what is measured.
        "CRM_LOG_LEVEL": "WARNING",
        # The load is one user measuring the API's capacity, far past one caller's allowance.
        "CRM_RATE_REQUESTS_PER_MINUTE": "0",
        "CRM_RATE_COST_PER_MINUTE": "0",
        **(settings or {}),
    }
    if temporal_config is not None:
        env["CRM_TEMPORAL_CONFIG"] = str(temporal_config)
    started: list[asyncio.subprocess.Process] = []
    try:
        server, server_log = await start_crm(
            ["serve", "--workers", str(api_workers)], env, workdir / f"server-{port}.log"
        )
        started.append(server)
        if server_pids is not None:
            server_pids.append(server.pid)
        worker: tuple[asyncio.subprocess.Process, Path] | None = None
        if with_worker:
            # INFO: the worker says when it polls; it logs nothing per request.
            worker_env = {**env, "CRM_LOG_LEVEL": "INFO"}
            worker = await start_crm(["worker"], worker_env, workdir / f"worker-{port}.log")
            started.append(worker[0])
        base_url = f"http://127.0.0.1:{port}"
        await wait_until_up(base_url, server, server_log)
        if worker is not None:
            await wait_for_line(*worker, WORKER_STARTED)
        yield base_url
    finally:
        for process in started:
            await stop_crm(process)


async def start_crm(
    command: list[str], env: dict[str, str], log_path: Path, module: str = "crm"
) -> tuple[asyncio.subprocess.Process, Path]:
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *command, env=env, cwd=REPO_ROOT, stdout=log, stderr=log
        )
    return process, log_path


async def stop_crm(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def wait_for_line(process: asyncio.subprocess.Process, log: Path, text: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.returncode is None:
        if text in await asyncio.to_thread(log.read_text):
            return
        await asyncio.sleep(0.2)
    output = await asyncio.to_thread(log.read_text)
    raise BenchmarkError(f"the worker did not start: {output[-2000:]}")


async def wait_until_up(
    base_url: str, server: asyncio.subprocess.Process, log: Path, path: str = "/healthz"
) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as client:
        while time.monotonic() < deadline:
            if server.returncode is not None:
                break
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(path)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    output = await asyncio.to_thread(log.read_text)
    raise BenchmarkError(f"the API did not start: {output[-2000:]}")


Request = Callable[[httpx.AsyncClient], Awaitable[object]]


def _client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60)


async def fire_requests(
    client: httpx.AsyncClient, request: Request, seconds: float, concurrency: int
) -> LoadResult:
    """`concurrency` tasks send `request` back to back for `seconds` (after one round of
    `concurrency` warm-up requests, so every server process has answered before the clock)."""
    await asyncio.gather(*(request(client) for _ in range(concurrency)))
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                await request(client)
            except (BenchmarkError, httpx.HTTPError) as failure:
                failures.append(f"{type(failure).__name__}: {failure}")
                continue
            latencies.append(time.perf_counter() - sent)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return load_result(latencies, failures, elapsed, concurrency)


async def fire(base_url: str, seconds: float, concurrency: int) -> LoadResult:
    """Sign in once, then `concurrency` tasks request the page back to back for `seconds`."""
    async with _client(base_url, concurrency) as client:
        token = await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)

        async def page(client: httpx.AsyncClient) -> object:
            return await contacts_page(client, token)

        return await fire_requests(client, page, seconds, concurrency)


async def load_test(
    database_url: str, workdir: Path, seconds: float, concurrency: int, api_workers: int = 1
) -> LoadResult:
    async with served_app(database_url, workdir, api_workers=api_workers) as base_url:
        return await fire(base_url, seconds, concurrency)
