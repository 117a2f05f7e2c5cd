"""Document maintenance activities: the purge of deleted documents past their retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import activity

from domain.documents import purge_deleted_documents
from domain.storage import Storage


class DocumentActivities:
    """Bound to the worker's storage and retention period (settings, read at its start)."""

    def __init__(self, storage: Storage, retention: timedelta) -> None:
        self._storage = storage
        self._retention = retention

    @activity.defn(name="purge_deleted_documents")
    async def purge_deleted_documents(self) -> int:
        """How many documents were erased (idempotent: a retry erases what is left)."""
        cutoff = datetime.now(UTC) - self._retention
        return await purge_deleted_documents(self._storage, cutoff)
