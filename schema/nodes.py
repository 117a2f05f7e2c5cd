"""The Relay `node(id)` root field."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

from resolvers import nodes as resolve
from resolvers.nodes import FETCHERS
from schema.shared_fields import RecordId


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Refetch by global id: "
        + ", ".join(FETCHERS)
        + ". Null if it does not exist, is not visible to you, or is of another type."
    )
    async def node(self, info: Info, id: RecordId) -> relay.Node | None:
        return await resolve.node(info.context, id)  # type: ignore[no-any-return]
