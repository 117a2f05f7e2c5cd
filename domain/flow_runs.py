"""Flow runs: what each run is doing (reported by the run), and the requests people make of it.

A run's row is created by `domain.flow_triggers` with the change that triggered it; from then
on the FlowRun workflow reports its progress here. Cancel and retry requests travel to the run
through the outbox, like every other message for Temporal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.flow_runs import FlowRun as FlowRun
from db.flow_runs import FlowStepEffect
from domain.actors import Actor
from domain.audit import record_audit
from domain.errors import DomainError
from domain.events import append_event
from domain.flow_triggers import SIGNAL_CANCEL, SIGNAL_RETRY_STEP, signal_run
from domain.flows.definitions import ACTIVE_RUN_STATUSES, FlowRunStatus
from domain.metrics import FLOW_RUN_REPORTS

AGGREGATE = "flow_run"
MAX_KEY_LENGTH = 255  # FlowStepEffect.idempotency_key
MAX_ERROR_LENGTH = 4_000
FINISHED_STATUSES = frozenset(FlowRunStatus) - ACTIVE_RUN_STATUSES


class FlowRunErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    NOT_ACTIVE = "NOT_ACTIVE"
    NOT_STALLED = "NOT_STALLED"


async def runs_of_record(actor: Actor, record_type: str, record_id: str) -> list[FlowRun]:
    """Every run on one record, newest first."""
    return await FlowRun.filter(
        agency_id=actor.agency_id, record_type=record_type, record_id=record_id
    ).order_by("-id")


def _not_found(run_id: int) -> DomainError:
    return DomainError(FlowRunErrorCode.NOT_FOUND, f"No flow run with id {run_id}.", "id")


async def get_run(actor: Actor, run_id: int) -> FlowRun:
    run = await FlowRun.get_or_none(agency_id=actor.agency_id, id=run_id)
    if run is None:
        raise _not_found(run_id)
    return run


async def record_progress(
    agency_id: UUID,
    workflow_id: str,
    seq: int,
    status: FlowRunStatus,
    current_step: str | None,
    next_wake_at: datetime | None,
    last_error: str,
    stop_reason: str = "",
) -> None:
    """Store what the run reports. `seq` grows with every report, so a late duplicate of an
    older report (a retried activity) never overwrites a newer one.

    Each stored report is also a `flow_run.progressed` event, in the same transaction, so
    subscribers and webhooks follow runs like any other record."""
    finished_at = datetime.now(UTC) if status in FINISHED_STATUSES else None
    async with in_transaction() as conn:
        stored = (
            await FlowRun.filter(agency_id=agency_id, workflow_id=workflow_id, progress_seq__lt=seq)
            .using_db(conn)
            .update(
                progress_seq=seq,
                status=status,
                current_step=current_step,
                next_wake_at=next_wake_at,
                last_error=last_error[:MAX_ERROR_LENGTH],
                stop_reason=stop_reason,
                finished_at=finished_at,
                updated_at=datetime.now(UTC),
            )
        )
        if not stored:
            return
        FLOW_RUN_REPORTS.labels(str(status)).inc()
        run = (
            await FlowRun.filter(agency_id=agency_id, workflow_id=workflow_id).using_db(conn).get()
        )
        progress = {
            "flow_key": run.flow_key,
            "version": run.version,
            "record_type": run.record_type,
            "record_id": run.record_id,
            "status": str(status),
            "current_step": current_step,
            "next_wake_at": next_wake_at.isoformat() if next_wake_at else None,
            "last_error": run.last_error,
            "stop_reason": run.stop_reason,
        }
        await append_event(
            Actor.system(agency_id, "flows"),
            "flow_run.progressed",
            AGGREGATE,
            str(run.id),
            progress,
            conn,
        )


def storable_key(idempotency_key: str) -> str:
    """The key as stored: itself when it fits the column, else a digest of it."""
    if len(idempotency_key) <= MAX_KEY_LENGTH:
        return idempotency_key
    return "sha256:" + hashlib.sha256(idempotency_key.encode()).hexdigest()


async def at_most_once(
    idempotency_key: str,
    workflow_id: str,
    kind: str,
    change: Callable[[BaseDBAsyncClient], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Make a flow step's change once per key; a retry gets the first attempt's result.

    The change and its effect row commit in one transaction (services the change calls open
    nested transactions, i.e. savepoints, on the same connection). Two attempts racing on
    PostgreSQL cannot both commit: the second fails on the unique key and rolls back entirely.
    """
    key = storable_key(idempotency_key)
    async with in_transaction() as connection:
        done = await FlowStepEffect.filter(idempotency_key=key).using_db(connection).first()
        if done is not None:
            return done.result
        result = await change(connection)
        await FlowStepEffect.create(
            idempotency_key=key,
            workflow_id=workflow_id,
            kind=kind,
            result=result,
            using_db=connection,
        )
    return result


async def _request(actor: Actor, run_id: int, signal: str, action: str) -> FlowRun:
    async with in_transaction() as connection:
        run = (
            await FlowRun.filter(agency_id=actor.agency_id, id=run_id)
            .using_db(connection)
            .select_for_update()
            .first()
        )
        if run is None:
            raise _not_found(run_id)
        if run.status not in ACTIVE_RUN_STATUSES:
            raise DomainError(
                FlowRunErrorCode.NOT_ACTIVE, f"The run is {run.status}: nothing to {action}.", "id"
            )
        if signal == SIGNAL_RETRY_STEP and run.status != FlowRunStatus.STALLED:
            raise DomainError(
                FlowRunErrorCode.NOT_STALLED,
                f"The run is {run.status}; only a stalled run has a failed step to retry.",
                "id",
            )
        await signal_run(run, signal, connection)
        entity_id = str(run.id)
        state = {"status": run.status, "workflow_id": run.workflow_id}
        await record_audit(actor, AGGREGATE, entity_id, action, state, {}, connection)
        await append_event(
            actor, f"{AGGREGATE}.{action}_requested", AGGREGATE, entity_id, state, connection
        )
    return run


async def request_cancel(actor: Actor, run_id: int) -> FlowRun:
    """Ask an active run to stop where it is; it reports itself cancelled."""
    return await _request(actor, run_id, SIGNAL_CANCEL, "cancel")


async def request_step_retry(actor: Actor, run_id: int) -> FlowRun:
    """Ask a stalled run to try its failed step again (e.g. after the record was fixed)."""
    return await _request(actor, run_id, SIGNAL_RETRY_STEP, "retry")
