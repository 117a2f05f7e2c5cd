"""Requests served at the same time each run in the app's database context, and leave it."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import Api

QUERY = "{ contacts(first: 5) { edges { node { id } } } }"


async def test_concurrent_requests_all_succeed(api: Api) -> None:
    responses = await asyncio.gather(*(api.post({"query": QUERY}) for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    assert all("errors" not in r.json() for r in responses)
