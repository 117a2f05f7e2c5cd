"""Broadcast activities: start a run, send its batches (heartbeating), through
`domain.broadcast_runs`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from temporalio import activity

from domain import broadcast_runs
from domain.broadcast_runs import Pace
from domain.emails import SmtpConfig
from domain.signed_links import LinkConfig


@dataclass(frozen=True)
class StartRunInput:
    broadcast_id: str
    moment: datetime  # when the run was due: its local date names the occurrence


@dataclass(frozen=True)
class RunProgress:
    done: bool
    status: str
    targeted: int
    sent: int
    failed: int
    skipped: dict[str, int] = field(default_factory=dict)


class BroadcastActivities:
    """Sending through one SMTP relay at a rate it accepts (per worker process)."""

    def __init__(self, smtp: SmtpConfig, links: LinkConfig, per_second: float) -> None:
        self._smtp = smtp
        self._links = links
        # One pace for the worker: broadcasts running at once share the relay's rate.
        self._pace = Pace(per_second)

    def activities(self) -> list[Callable[..., Any]]:
        return [self.start_broadcast_run, self.send_broadcast_batch]

    @activity.defn(name="start_broadcast_run")
    async def start_broadcast_run(self, request: StartRunInput) -> int | None:
        """The run's id; None when the broadcast was cancelled."""
        return await broadcast_runs.start_run(UUID(request.broadcast_id), request.moment)

    @activity.defn(name="send_broadcast_batch")
    async def send_broadcast_batch(self, run_id: int) -> RunProgress:
        result = await broadcast_runs.send_batch(
            self._smtp, self._links, run_id, self._pace, activity.heartbeat
        )
        return RunProgress(
            done=result.done,
            status=result.status,
            targeted=result.targeted,
            sent=result.sent,
            failed=result.failed,
            skipped=result.skipped,
        )
