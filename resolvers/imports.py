"""Import resolvers: parse the mapping input, call `domain.imports`."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import imports
from domain.imports import DuplicatePolicy, ImportErrorCode, RecordImport
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, attempt, found_or_none, input_path
from resolvers.inputs import node_uuid

TYPE_NAME = "RecordImport"


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, ImportErrorCode)


def _path(field: str | None) -> str | None:
    """A column's name stays as the file spells it (`mapping.E-mail`)."""
    if field is not None and field.startswith("mapping."):
        return field
    return input_path(field)


async def record_import(context: RequestContext, global_id: relay.GlobalID) -> RecordImport | None:
    actor = actor_of(context)
    return await found_or_none(lambda: imports.get_import(actor, _id(global_id)))


async def start(context: RequestContext, data: Any) -> Outcome[RecordImport]:
    actor = actor_of(context)

    async def started() -> RecordImport:
        mapping = {m.column: m.field for m in data.mapping}
        policy = DuplicatePolicy(data.duplicate_policy)
        return await imports.start_import(
            actor, _id(data.id), mapping, policy, start_flows=data.start_flows
        )

    return await attempt(ImportErrorCode, started, _path)


async def cancel(context: RequestContext, global_id: relay.GlobalID) -> Outcome[RecordImport]:
    actor = actor_of(context)
    return await attempt(ImportErrorCode, lambda: imports.cancel_import(actor, _id(global_id)))
