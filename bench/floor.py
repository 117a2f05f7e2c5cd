"""The API's smallest signed-in read against the framework's floor: `contact(id) { id
firstName lastName status }` with a token on one `crm serve` process, and a bare Strawberry
`{ hello }` (`bench/hello_app.py`) on one uvicorn process, both loaded by the same lean client
(`bench/raw_client.py`) in the same run."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.client import contacts_page, graphql, sign_in
from bench.concurrent_load import (
    LoadResult,
    free_port,
    served_app,
    start_crm,
    stop_crm,
    wait_until_up,
)
from bench.hello_app import HELLO
from bench.load import ADMIN_EMAIL, ADMIN_PASSWORD
from bench.queries import ONE_CONTACT
from bench.raw_client import graphql_request, raw_load


@dataclass(frozen=True)
class FloorResult:
    one_contact: LoadResult
    hello: LoadResult
    ratio: float  # the contact's requests per second over hello's


@contextlib.asynccontextmanager
async def served_hello(workdir: Path) -> AsyncIterator[str]:
    """`bench/hello_app.py` on one uvicorn process, served as `crm serve` serves the API."""
    port = free_port()
    arguments = ["bench.hello_app:app", "--host", "127.0.0.1", "--port", str(port)]
    arguments += ["--log-level", "warning", "--no-access-log", "--no-server-header"]
    server, log = await start_crm(
        arguments, dict(os.environ), workdir / f"hello-{port}.log", module="uvicorn"
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        await wait_until_up(base_url, server, log, path="/graphql?query=%7Bhello%7D")
        yield base_url
    finally:
        await stop_crm(server)


async def floor_test(
    database_url: str, workdir: Path, seconds: float, concurrency: int
) -> FloorResult:
    async with served_app(database_url, workdir) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            token = await sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
            page = await contacts_page(client, token)
            contact_id = page["contacts"]["edges"][0]["node"]["id"]
            # The request is answered with the contact before it is timed.
            await graphql(client, ONE_CONTACT, {"id": contact_id}, token)
        request = graphql_request(base_url, ONE_CONTACT, {"id": contact_id}, token)
        one = await raw_load(base_url, request, seconds, concurrency)
    async with served_hello(workdir) as base_url:
        hello = await raw_load(base_url, graphql_request(base_url, HELLO, {}), seconds, concurrency)
    return FloorResult(
        one_contact=one,
        hello=hello,
        ratio=round(one.requests_per_second / hello.requests_per_second, 3),
    )
