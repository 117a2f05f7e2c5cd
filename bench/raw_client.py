"""A lean HTTP/1.1 load client for small requests: keep-alive connections sending one
pre-encoded POST each, back to back.

httpx spends about as long on a request as a bare Strawberry app does answering `{ hello }`,
and the client shares the machine's cores with the server: measured with httpx, both
endpoints top out at the client's own rate. This client does next to nothing per request
(write fixed bytes, read the status line, headers and `Content-Length` body), so the server is
what is measured. It is the same client for both endpoints it compares.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

from bench.client import BenchmarkError
from bench.concurrent_load import LoadResult, load_result


def graphql_request(
    base_url: str, query: str, variables: dict[str, Any], token: str | None = None
) -> bytes:
    """One POST /graphql as bytes on the wire."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    host = urlsplit(base_url).netloc
    lines = [
        "POST /graphql HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Content-Length: {len(body)}",
    ]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> None:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = head[9:12]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length)
    if status != b"200" or b'"errors"' in body:
        raise BenchmarkError(f"HTTP {status.decode()}: {body[:300]!r}")


async def raw_load(base_url: str, request: bytes, seconds: float, concurrency: int) -> LoadResult:
    """`concurrency` connections send `request` back to back for `seconds`; any error status
    or GraphQL error counts as a failure (and closes that connection's run)."""
    address = urlsplit(base_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    latencies: list[float] = []
    failures: list[str] = []

    async def connection(deadline: float | None) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            if deadline is None:  # one warm-up exchange
                await _exchange(reader, writer, request)
                return
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                await _exchange(reader, writer, request)
                latencies.append(time.perf_counter() - sent)
        except (BenchmarkError, OSError, asyncio.IncompleteReadError) as failure:
            failures.append(f"{type(failure).__name__}: {failure}")
        finally:
            writer.close()

    await asyncio.gather(*(connection(None) for _ in range(concurrency)))
    started = time.perf_counter()
    await asyncio.gather(*(connection(started + seconds) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return load_result(latencies, failures, elapsed, concurrency)
