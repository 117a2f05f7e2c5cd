"""The benchmark's GraphQL client calls: sign in, and fetch the contacts page."""

from __future__ import annotations

from typing import Any

import httpx

from bench.queries import CONTACTS_PAGE, PAGE_SIZE

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken errors { code message } }
}"""


class BenchmarkError(Exception):
    """The benchmark cannot report honest numbers (a failed request, data that differs)."""


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """POST one request to /graphql; any HTTP or GraphQL error stops the benchmark."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    if response.status_code != 200:
        raise BenchmarkError(f"HTTP {response.status_code}: {response.text[:500]}")
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise BenchmarkError(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> str:
    data = await graphql(client, LOGIN, {"email": email, "password": password})
    if data["login"]["errors"]:
        raise BenchmarkError(f"sign-in failed: {data['login']['errors']}")
    token: str = data["login"]["accessToken"]
    return token


async def contacts_page(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    return await graphql(client, CONTACTS_PAGE, {"first": PAGE_SIZE}, token)
