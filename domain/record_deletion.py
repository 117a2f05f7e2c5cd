"""Soft delete of a sales record, the same for all five: the row stays for audit and undo,
leaves the tag index, and no query returns it again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from domain import tags
from domain.actors import Actor
from domain.record_changes import record_deleted

M = TypeVar("M", bound=Model)


async def soft_delete(
    actor: Actor,
    record: M,
    aggregate: str,
    snapshot: Callable[[M], dict[str, Any]],
    conn: BaseDBAsyncClient,
) -> None:
    """Mark the (already locked) record deleted, with its audit row and `<aggregate>.deleted`
    event, in the caller's transaction."""
    await tags.untag_record(actor, aggregate, record.pk, conn)
    record.deleted_at = datetime.now(UTC)
    await record.save(using_db=conn, update_fields=["deleted_at", "updated_at"])
    record_id = str(record.pk)
    await record_deleted(actor, aggregate, record_id, snapshot(record), conn)
