"""Several API processes on one PostgreSQL: a change committed through one reaches subscribers
connected to another. Two real `crm serve` processes, real HTTP and websockets over TCP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws

from db.events import Event
from domain.agencies import bootstrap_agency
from domain.event_subscriptions import event_cursor
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, LOGIN, UNREACHABLE_TEMPORAL
from tests.e2e.test_event_subscriptions import CREATE_CONTACT, EVENTS
from tests.fixtures.databases import OpenDatabase

pytestmark = pytest.mark.parametrize("database_source", ["postgres"], indirect=True)

START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def api_processes(database_url: str, data_dir: Path, *names: str) -> Iterator[list[str]]:
    """`crm serve` in processes of their own, started together; yields their base URLs once
    they all answer."""
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for name in names:
            port = free_port()
            environment = {
                **os.environ,
                "CRM_DATABASE_URL": database_url,
                "CRM_API_PORT": str(port),
                "CRM_DATA_DIR": str(data_dir / name),
                "CRM_TEMPORAL_ADDRESS": UNREACHABLE_TEMPORAL,
                # So slow that only a NOTIFY from the other process can deliver in time.
                "CRM_SUBSCRIPTION_POLL_SECONDS": "600",
                "CRM_LOG_LEVEL": "WARNING",
            }
            log = data_dir / f"{name}.log"
            with log.open("w") as output:
                process = subprocess.Popen(
                    [sys.executable, "-m", "crm", "serve"],
                    env=environment,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            started.append((process, f"http://127.0.0.1:{port}", log))
        deadline = time.monotonic() + START_TIMEOUT
        for process, base_url, log in started:
            while not answers(base_url):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"{base_url} did not start: {log.read_text()}"
                time.sleep(0.1)
        yield [base_url for _, base_url, _ in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


async def test_a_change_made_through_one_process_reaches_a_subscriber_of_another(
    db: OpenDatabase, tmp_path: Path
) -> None:
    await bootstrap_agency("Acme", "acme", ADMIN_EMAIL, "Ada Admin", ADMIN_PASSWORD)
    newest = await Event.all().order_by("-id").first()
    start = event_cursor(newest.id if newest else 0)
    with api_processes(db.url, tmp_path, "a", "b") as (process_a, process_b):
        async with httpx.AsyncClient(base_url=process_b, timeout=10) as writer:
            login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            answer = await writer.post("/graphql", json={"query": LOGIN, "variables": login})
            token = answer.json()["data"]["login"]["accessToken"]

            async def create(name: str) -> str:
                response = await writer.post(
                    "/graphql",
                    json={"query": CREATE_CONTACT, "variables": {"name": name}},
                    headers={"authorization": f"Bearer {token}"},
                )
                return str(response.json()["data"]["createContact"]["contact"]["id"])

            async with httpx.AsyncClient(base_url=process_a, timeout=10) as reader:
                connecting: AbstractAsyncContextManager[AsyncWebSocketSession] = aconnect_ws(
                    "/graphql", reader, subprotocols=["graphql-transport-ws"]
                )
                async with connecting as ws:
                    auth = {"Authorization": f"Bearer {token}"}
                    await ws.send_json({"type": "connection_init", "payload": auth})
                    assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
                    subscribe = {"query": EVENTS, "variables": {"after": start}}
                    await ws.send_json({"id": "1", "type": "subscribe", "payload": subscribe})
                    replayed = await create("Replayed")  # committed before or while A subscribes
                    # A delivered it, so A is subscribed: the next one can only come by NOTIFY
                    # from B (A polls every 600 s).
                    first = await next_event(ws)
                    live = await create("Live")
                    second = await next_event(ws)
    assert (first["type"], first["nodeId"]) == ("contact.created", replayed)
    assert (second["type"], second["nodeId"]) == ("contact.created", live)


async def next_event(ws: AsyncWebSocketSession) -> dict[str, Any]:
    while True:
        message = await ws.receive_json(timeout=10)
        if message["type"] == "ping":
            await ws.send_json({"type": "pong"})
            continue
        assert message["type"] == "next", message
        event: dict[str, Any] = message["payload"]["data"]["events"]
        return event
