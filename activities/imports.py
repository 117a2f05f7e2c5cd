"""Import activities: a run's batches (heartbeating), through `domain.import_runs`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from temporalio import activity

from domain import import_runs
from domain.import_files import ImportLimits
from domain.import_runs import ImportProgress as ImportProgress
from domain.storage import Storage

# Batches one activity call imports before reporting back: the file is read from its start
# once per call, so few calls, and a history of a few dozen events at 200,000 rows.
BATCHES_PER_CALL = 20


class ImportActivities:
    def __init__(self, storage: Storage, limits: ImportLimits) -> None:
        self._storage = storage
        self._limits = limits

    def activities(self) -> list[Callable[..., Any]]:
        return [self.import_batches]

    @activity.defn(name="import_batches")
    async def import_batches(self, import_id: str) -> ImportProgress:
        return await import_runs.import_rows(
            self._storage, self._limits, UUID(import_id), activity.heartbeat, BATCHES_PER_CALL
        )
