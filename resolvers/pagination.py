"""A domain page as a Relay connection."""

from __future__ import annotations

from typing import Any

from strawberry import relay
from strawberry.types import Info

from domain.pagination import Page
from resolvers.selections import selected_names


def connection(page: Page[Any]) -> relay.Connection[Any]:
    edges = [relay.Edge(cursor=c, node=n) for c, n in zip(page.cursors, page.items, strict=True)]
    return relay.Connection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )


def node_fields(info: Info) -> set[str]:
    """The names of the fields a connection's query selects on its nodes (`edges { node {
    ... } }`, through fragments): what a page may load for all its rows at once."""
    return selected_names(info, ("edges", "node"))
