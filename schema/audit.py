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
    request_id: str = strawberry.field(
        description="The id of the request that made the change (as in the request log)."
    )
    entity_type: str = strawberry.field(description="The kind of record changed, e.g. contact.")
    entity_id: str = strawberry.field(description="The id of the record changed.")
    action: str = strawberry.field(
        description="What was done, e.g. created, updated, transitioned, deleted."
    )
    before: JSON = strawberry.field(description="The changed fields before (empty for a creation).")
    after: JSON = strawberry.field(description="The changed fields after (empty for a deletion).")
    occurred_at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, AuditEntryRecord))


@strawberry.input(description="Which audit entries to list; conditions combine with AND.")
class AuditFilter:
    entity_type: str | None = strawberry.field(
        default=strawberry.UNSET, description="Only changes of this kind of record, e.g. contact."
    )
    entity_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Only changes of this record (its id, not the global id).",
    )
    actor_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Only changes by this actor: user:<id>, api_key:<id> or system:<name>.",
    )
    action: str | None = strawberry.field(
        default=strawberry.UNSET, description="Only this action, e.g. updated."
    )
    occurred_after: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Inclusive."
    )
    occurred_before: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Exclusive."
    )


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
