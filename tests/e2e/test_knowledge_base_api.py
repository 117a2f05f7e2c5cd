"""The knowledge base over GraphQL: support writes drafts and publishes them, every person
of the agency reads the published ones, text search finds them, and a ticket suggests the
articles its subject is about."""

from __future__ import annotations

from typing import Any

from domain.roles import Role
from tests.e2e.colleagues import colleague
from tests.e2e.conftest import Api

CREATE = """
mutation($input: CreateArticleInput!) {
  createArticle(input: $input) { article { id title status publishedAt } errors { field code } }
}"""
UPDATE = """
mutation($input: UpdateArticleInput!) {
  updateArticle(input: $input) { article { status publishedAt } errors { field code } }
}"""
LIST = """
query($filter: ArticleFilter) {
  articles(first: 20, filter: $filter) { edges { node { title status } } }
}"""


async def write(api: Api, **fields: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (await api.graphql(CREATE, {"input": fields}))["createArticle"]
    assert answer["errors"] == [], answer
    return dict(answer["article"])


def titles(answer: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in answer["articles"]["edges"]]


async def test_support_publishes_articles_that_everyone_finds_and_tickets_suggest(
    api: Api,
) -> None:
    agent, _ = await colleague(api, Role.CUSTOMER_SUPPORT)
    rep, _ = await colleague(api, Role.SALES_PERSON)
    draft = await write(agent, title="Reset your password", body="Open Settings, then Security.")
    assert (draft["status"], draft["publishedAt"]) == ("DRAFT", None)
    await write(agent, title="Printer paper jams", category="hardware", status="PUBLISHED")
    await write(agent, title="Invoices by post", category="billing", status="PUBLISHED")
    assert titles(await rep.graphql(LIST)) == ["Invoices by post", "Printer paper jams"]
    refused = await rep.graphql(CREATE, {"input": {"title": "Mine"}})
    assert refused["createArticle"]["errors"] == [{"field": None, "code": "FORBIDDEN"}]

    published = await agent.graphql(UPDATE, {"input": {"id": draft["id"], "status": "PUBLISHED"}})
    assert published["updateArticle"]["article"]["publishedAt"] is not None
    found = await rep.graphql(LIST, {"filter": {"search": "SECURITY"}})
    assert titles(found) == ["Reset your password"]
    hardware = await rep.graphql(LIST, {"filter": {"category": "hardware"}})
    assert titles(hardware) == ["Printer paper jams"]

    ticket = await api.graphql(
        'mutation { createTicket(input: {subject: "Cannot reset my password"}) '
        "{ ticket { suggestedArticles { title } } } }"
    )
    suggested = ticket["createTicket"]["ticket"]["suggestedArticles"]
    assert suggested == [{"title": "Reset your password"}]
