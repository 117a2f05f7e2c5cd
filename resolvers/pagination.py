"""A domain page as a Relay connection."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain.pagination import Page


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
