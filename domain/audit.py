"""Audit rows: who changed which record, with the changed fields before and after."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient

from db.audit import AuditEntry as AuditEntry
from domain.actors import Actor
from domain.errors import input_errors
from domain.pagination import Ordering, Page, keyset_page
from domain.policies import rows
from domain.roles import Access, Resource


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


class AuditFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_type: str | None = Field(default=None, max_length=50)
    entity_id: str | None = Field(default=None, max_length=64)
    actor_id: str | None = Field(default=None, max_length=100)
    action: str | None = Field(default=None, max_length=50)
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


NEWEST_FIRST = Ordering("id", descending=True)


class AuditErrorCode(StrEnum):
    INVALID = "INVALID"


async def list_audit_entries(
    actor: Actor, first: int, after: str | None, criteria: dict[str, Any] | None = None
) -> Page[AuditEntry]:
    """Admins read the audit log of their agency; nothing can edit or delete it."""
    query = AuditEntry.filter(rows(actor, Resource.AUDIT, Access.READ, "actor_id"))
    if criteria is not None:
        try:
            where = AuditFilter.model_validate(criteria)
        except ValidationError as exc:
            raise input_errors(exc, {}, AuditErrorCode.INVALID) from exc
        exact = where.model_dump(include={"entity_type", "entity_id", "actor_id", "action"})
        query = query.filter(**{k: v for k, v in exact.items() if v is not None})
        if where.occurred_after is not None:
            query = query.filter(occurred_at__gte=where.occurred_after)
        if where.occurred_before is not None:
            query = query.filter(occurred_at__lt=where.occurred_before)
    return await keyset_page(query, NEWEST_FIRST, first, after)
