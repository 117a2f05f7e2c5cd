"""Audit rows: who changed which record, with the changed fields before and after."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from db.audit import AuditEntry
from domain.actors import Actor


def changed_fields(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields whose value differs, so an audit row says what changed."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


async def record_audit(
    actor: Actor,
    entity_type: str,
    entity_id: str,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    connection: BaseDBAsyncClient,
) -> AuditEntry:
    return await AuditEntry.create(
        agency_id=actor.agency_id,
        actor_id=actor.id,
        request_id=actor.request_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
        using_db=connection,
    )
