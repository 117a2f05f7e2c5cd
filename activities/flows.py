"""Flow activities: the FlowRun workflow's reads and changes, each through a domain service.

Changes are made at most once per workflow run and activity (the key `send_email` uses too),
so a retried activity never applies an event or notifies twice. A domain refusal (an illegal
transition, a record that is gone) is not retried: retrying cannot change the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.email import idempotency_key
from domain.actors import Actor
from domain.errors import DomainError
from domain.flow_runs import record_progress
from domain.flows import records
from domain.flows.definitions import FlowRunStatus
from domain.notification_kinds import NotificationKind


@dataclass(frozen=True)
class RecordRef:
    """The record a run acts on, in its agency; the flow key names the acting system user."""

    agency_id: str
    record_type: str
    record_id: str
    flow_key: str


@dataclass(frozen=True)
class LifecycleEventInput:
    record: RecordRef
    event: str


@dataclass(frozen=True)
class NotifyInput:
    """`user_id` names the user; or, when empty, `person` (`role:<role>`) is resolved."""

    record: RecordRef
    user_id: str
    message: str
    person: str = ""
    kind: str = NotificationKind.FLOW.value


@dataclass(frozen=True)
class CreateCallingTaskInput:
    """A calling task to create; `assignee` is a person (`owner`, a user id, `role:<role>`)."""

    record: RecordRef
    about: str
    subject: str
    notes: str
    due_at: datetime
    assignee: str


@dataclass(frozen=True)
class CreatedCallingTask:
    task_id: str
    assignee_id: str


@dataclass(frozen=True)
class AssignInput:
    record: RecordRef
    as_: str
    person: str


@dataclass(frozen=True)
class FlowProgress:
    """What a run reports about itself; `seq` orders the reports of one run."""

    agency_id: str
    seq: int
    status: FlowRunStatus
    current_step: str | None
    next_wake_at: datetime | None
    last_error: str = ""
    stop_reason: str = ""  # the stop_when condition that ended a stopped run


def flow_actor(record: RecordRef) -> Actor:
    """The system user a flow acts as: audit rows say which flow, and which run (request id)."""
    actor = Actor.system(UUID(record.agency_id), f"flow:{record.flow_key}")
    return replace(actor, request_id=activity.info().workflow_run_id or "")


def refusal(error: DomainError) -> ApplicationError:
    """A domain refusal as a failure the workflow sees by its code, and does not retry."""
    return ApplicationError(
        error.message,
        {"code": str(error.code), "field": error.field},
        type=str(error.code),
        non_retryable=True,
    )


@activity.defn(name="read_record")
async def read_record(record: RecordRef) -> dict[str, Any]:
    try:
        return await records.read_record(flow_actor(record), record.record_type, record.record_id)
    except DomainError as error:
        raise refusal(error) from error


@activity.defn(name="apply_lifecycle_event")
async def apply_lifecycle_event(request: LifecycleEventInput) -> str:
    """The record's status after the event."""
    record = request.record
    info = activity.info()
    try:
        return await records.apply_lifecycle_event(
            flow_actor(record),
            record.record_type,
            record.record_id,
            request.event,
            idempotency_key(info),
            info.workflow_id or "",
        )
    except DomainError as error:
        raise refusal(error) from error


@activity.defn(name="notify_user")
async def notify_user(request: NotifyInput) -> int:
    """The notification's id."""
    record = request.record
    info = activity.info()
    actor = flow_actor(record)
    try:
        if request.user_id:
            user_id = UUID(request.user_id)
        else:
            user_id = await records.person_id(actor, request.person, {})
    except ValueError as error:
        raise ApplicationError(
            f"not a user id: {request.user_id!r}", type="INVALID", non_retryable=True
        ) from error
    except DomainError as error:
        raise refusal(error) from error
    try:
        return await records.notify_about_record(
            actor,
            user_id,
            request.message,
            record.record_type,
            record.record_id,
            idempotency_key(info),
            info.workflow_id or "",
            NotificationKind(request.kind),
        )
    except DomainError as error:
        raise refusal(error) from error


@activity.defn(name="create_calling_task")
async def create_calling_task(request: CreateCallingTaskInput) -> CreatedCallingTask:
    """Once per activity: a retried attempt finds the task the first one created."""
    record = request.record
    info = activity.info()
    try:
        created = await records.create_calling_task(
            flow_actor(record),
            record.record_type,
            record.record_id,
            request.about,
            {
                "subject": request.subject,
                "notes": request.notes,
                "due_at": request.due_at,
                "assignee": request.assignee,
            },
            idempotency_key(info),
            info.workflow_id or "",
        )
    except DomainError as error:
        raise refusal(error) from error
    return CreatedCallingTask(task_id=created["task_id"], assignee_id=created["assignee_id"])


@activity.defn(name="assign_record")
async def assign_record(request: AssignInput) -> str:
    """The id of the user the record was given to."""
    record = request.record
    info = activity.info()
    try:
        return await records.assign_record(
            flow_actor(record),
            record.record_type,
            record.record_id,
            request.as_,
            request.person,
            idempotency_key(info),
            info.workflow_id or "",
        )
    except DomainError as error:
        raise refusal(error) from error


@activity.defn(name="record_flow_progress")
async def record_flow_progress(progress: FlowProgress) -> None:
    await record_progress(
        UUID(progress.agency_id),
        activity.info().workflow_id or "",
        progress.seq,
        progress.status,
        progress.current_step,
        progress.next_wake_at,
        progress.last_error,
        progress.stop_reason,
    )


FLOW_ACTIVITIES: list[Callable[..., Any]] = [
    read_record,
    apply_lifecycle_event,
    notify_user,
    create_calling_task,
    assign_record,
    record_flow_progress,
]
