"""Duplicate and merge resolvers: thin calls into domain.duplicates and domain.merges."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from strawberry import relay

from domain import duplicates, merges
from domain.duplicates import DuplicateErrorCode, DuplicateMatch, RecordType
from domain.errors import DomainError
from domain.merges import MergeErrorCode, RecordMerge
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, attempt, found_or_none
from resolvers.inputs import node_uuid

RECORD_TYPES = {"Contact": RecordType.CONTACT, "Customer": RecordType.CUSTOMER}
MERGE_TYPE_NAME = "RecordMerge"
_CAPITAL = re.compile(r"(?<!^)([A-Z])")


def snake(name: str) -> str:
    """A field name as the client writes it (`firstName`) as the domain knows it."""
    return _CAPITAL.sub(r"_\1", name).lower()


def _record(global_id: relay.GlobalID) -> tuple[RecordType, UUID]:
    record_type = RECORD_TYPES.get(global_id.type_name)
    if record_type is None:
        node_uuid(global_id, "Contact", DuplicateErrorCode)  # raises NOT_FOUND
        raise AssertionError("unreachable")
    return record_type, node_uuid(global_id, global_id.type_name, DuplicateErrorCode)


async def duplicates_of(
    context: RequestContext, global_id: relay.GlobalID
) -> list[DuplicateMatch] | None:
    """Possible duplicates of a contact or customer; null when it is not visible."""
    actor = actor_of(context)

    async def load() -> list[DuplicateMatch]:
        record_type, record_id = _record(global_id)
        return await duplicates.duplicates_of(actor, record_type, record_id)

    return await found_or_none(load)


async def visible_duplicates(context: RequestContext, record: Any) -> list[DuplicateMatch]:
    """The warning a create or update payload carries: the record's possible duplicates."""
    return await duplicates.visible_duplicates(actor_of(context), record)


def _ids(global_ids: list[relay.GlobalID], type_name: str, field: str) -> list[UUID]:
    found = []
    for index, global_id in enumerate(global_ids):
        try:
            found.append(node_uuid(global_id, type_name, MergeErrorCode))
        except DomainError as exc:
            raise DomainError(exc.code, exc.message, f"{field}.{index}") from exc
    return found


async def merge(
    context: RequestContext,
    type_name: str,
    survivor: relay.GlobalID,
    merged: list[relay.GlobalID],
    values: list[tuple[str, relay.GlobalID]],
) -> Outcome[RecordMerge]:
    actor = actor_of(context)

    async def work() -> RecordMerge:
        survivor_id = node_uuid(survivor, type_name, MergeErrorCode)
        merged_ids = _ids(merged, type_name, "merged_ids")
        chosen = {
            snake(field): node_uuid(source, type_name, MergeErrorCode) for field, source in values
        }
        return await merges.merge_records(
            actor,
            RECORD_TYPES[type_name].value,
            survivor_id,
            merged_ids,
            chosen,
            context.merge_undo_window,
        )

    return await attempt(MergeErrorCode, work)


async def undo_merge(context: RequestContext, global_id: relay.GlobalID) -> Outcome[RecordMerge]:
    actor = actor_of(context)
    return await attempt(
        MergeErrorCode,
        lambda: merges.undo_merge(actor, node_uuid(global_id, MERGE_TYPE_NAME, MergeErrorCode)),
    )


async def survivor_of(context: RequestContext, merge: RecordMerge) -> Any:
    actor = actor_of(context)
    return await found_or_none(lambda: merges.survivor_of(actor, merge))
