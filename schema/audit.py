"""The audit log, read-only: who changed what, when, from which request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.audit import AuditEntry as AuditEntryRecord
from domain.pagination import DEFAULT_PAGE_SIZE
from resolvers import audit as resolve
from schema.shared_fields import FILTER, After, First, node_id


@strawberry.type(description="One change: before/after hold only the fields that changed.")
class AuditEntry(relay.Node):
    id: relay.NodeID[str] = node_id()
    actor_id: str = strawberry.field(description="user:<id>, api_key:<id> or system:<name>.")
    request_id: str
    entity_type: str
    entity_id: str
    action: str
    before: JSON
    after: JSON
    occurred_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, AuditEntryRecord))


@strawberry.input
class AuditFilter:
    entity_type: str | None = strawberry.UNSET
    entity_id: str | None = strawberry.UNSET
    actor_id: str | None = strawberry.UNSET
    action: str | None = strawberry.UNSET
    occurred_after: datetime | None = strawberry.UNSET
    occurred_before: datetime | None = strawberry.UNSET


@strawberry.type
class AuditQuery:
    @strawberry.field(description="The agency's audit log, newest first (admins).")
    async def audit_entries(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[AuditFilter | None, FILTER] = None,
    ) -> relay.Connection[AuditEntry]:
        return await resolve.audit_entries(info.context, first, after, filter)
