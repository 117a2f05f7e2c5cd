"""`FlowRun`: interprets one published flow definition for one record, step by step.

The definition travels in the run's input, so the run is pinned to the version it started
with: publishing a new version never changes a run in flight. Everything here is
deterministic (timers are Temporal timers, time is `workflow.now()`); reads and changes are
activities, which call the domain. Domain events of the record arrive as `record_event`
signals; a sysadmin's requests as `cancel` and `retry_step`.

A definition's `stop_when` conditions end the run early, whatever step it is in: every wait
(timer, signal, stalled step) also ends when an event meeting one arrives, and no step starts
after it; the run ends as `stopped`, reporting which condition it was. Runs started before
`stop_when` existed have none in their definition, so for them nothing here issues a command
it did not before: their histories replay unchanged without a `workflow.patched` (the replay
tests prove it).

A failed step does not fail the run: the run stalls (reported as such) and waits for a retry
or a cancel, because the usual fix is outside the flow (correct the record, then retry).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.email_delivery import SEND_DEADLINE, SEND_RETRY, SEND_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities, SendEmailInput
    from activities.flows import (
        AssignInput,
        CreateCallingTaskInput,
        CreatedCallingTask,
        FlowProgress,
        LifecycleEventInput,
        NotifyInput,
        RecordRef,
        apply_lifecycle_event,
        assign_record,
        create_calling_task,
        notify_user,
        read_record,
        record_flow_progress,
    )
    from activities.messages import FlowMessageInput, MessageActivities
    from domain.flows.definitions import (
        MAX_TITLE_LENGTH,
        OWNER,
        OWNER_FIELD,
        AssignStep,
        BranchStep,
        CreateCallingTaskStep,
        EndStep,
        FlowDefinition,
        FlowRunStatus,
        NotifyStep,
        RecordTime,
        RepeatStep,
        SendEmailStep,
        Step,
        StopCondition,
        TransitionStep,
        Until,
        WaitForSignalStep,
        WaitStep,
        parse_duration,
        person_role,
        person_task_step,
    )
    from domain.flows.templates import field_value, render
    from domain.message_kinds import TemplateKind
    from domain.notification_kinds import NotificationKind

# Reads and changes in the database: seconds each; a database that is away is waited for
# (backing off to one attempt every five minutes) for six hours before the step stalls.
DOMAIN_TIMEOUT = timedelta(seconds=30)
DOMAIN_DEADLINE = timedelta(hours=6)
DOMAIN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)
# Progress reports are bookkeeping: a report that cannot be written is given up on sooner,
# and never stops the run.
PROGRESS_TIMEOUT = timedelta(seconds=30)
PROGRESS_DEADLINE = timedelta(minutes=10)
PROGRESS_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
# How long a stalled run waits for a retry or a cancel before it ends as failed.
STALLED_RUN_KEPT = timedelta(days=30)
# Runs that reached a send_email step before this change sent directly, unrecorded; replaying
# them must take the same path (`workflow.patched`).
MESSAGING_PATCH = "messages-recorded-and-consented"
# Event ids remembered across continue-as-new, so a re-delivered event is still recognised.
REMEMBERED_EVENTS = 500
# Past this many history events, a run continues as new at its next step, so a year-long
# sequence keeps each run's history under 1,000 events (a step adds at most a few dozen).
# Temporal itself suggests it only at about 4,000, and replaying a long history is what a
# worker pays when it picks a sleeping run up again. Runs already past the limit when this
# came in take the old path on replay (`workflow.patched`).
HISTORY_LIMIT = 800
HISTORY_LIMIT_PATCH = "continue-as-new-past-800-events"


@dataclass(frozen=True)
class RecordEvent:
    """A domain event of the run's record (or of a calling task about it: `record_type` and
    `record_id` say whose); `status` is where a transition went; `opted_out`, for a consent
    change, the kinds of message the record is opted out of now."""

    id: int
    type: str
    status: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    opted_out: list[str] | None = None


@dataclass(frozen=True)
class CarriedState:
    """What a run hands to its continuation when its history grows long."""

    step_id: str
    received: list[RecordEvent]
    consumed: list[int]
    progress_seq: int
    # The calling tasks create_calling_task steps made, by step id; repeat steps' counts.
    created_tasks: dict[str, CreatedCallingTask] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowRunInput:
    agency_id: str
    flow_key: str
    version: int
    record_type: str
    record_id: str
    definition: FlowDefinition
    carried: CarriedState | None = None


@dataclass(frozen=True)
class FlowRunProgress:
    status: FlowRunStatus
    current_step: str | None
    next_timer: datetime | None
    last_error: str
    stop_reason: str = ""


@dataclass(frozen=True)
class FlowRunResult:
    status: FlowRunStatus
    last_step: str | None
    stop_reason: str = ""  # for a stopped run: the stop_when condition that came


class StepFailed(Exception):
    """A step could not be done; the run stalls until a retry or a cancel."""


def _reason(error: ActivityError) -> str:
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return f"{cause.type}: {cause.message}" if cause.type else cause.message
    if cause is not None:
        return str(cause) or type(cause).__name__
    return str(error)


def _as_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _recipients(to: str, record: dict[str, Any]) -> list[str]:
    if "@" in to:
        return [to]
    value = field_value(record, to)
    if isinstance(value, list):
        return [str(item) for item in value if item]
    return [str(value)] if value else []


@workflow.defn
class FlowRun:
    """One run of one flow version on one record."""

    def __init__(self) -> None:
        self._request: FlowRunInput | None = None
        self._received: list[RecordEvent] = []
        self._consumed: list[int] = []
        self._status = FlowRunStatus.RUNNING
        self._step: str | None = None
        self._next_timer: datetime | None = None
        self._error = ""
        self._cancel_requested = False
        self._retry_requested = False
        self._seq = 0
        self._tasks: dict[str, CreatedCallingTask] = {}
        self._repeats: dict[str, int] = {}
        self._stopped_by: StopCondition | None = None

    # --- signals and queries ---------------------------------------------------------------

    @workflow.signal
    def record_event(self, event: RecordEvent) -> None:
        """The relay may deliver an event twice; the run takes each one once."""
        if event.id in self._consumed or any(seen.id == event.id for seen in self._received):
            return
        self._received.append(event)
        self._notice_stop(event)

    def _notice_stop(self, event: RecordEvent) -> None:
        """Remember the first event that meets a stop_when condition (the run then ends)."""
        if self._stopped_by is None and self._request is not None:
            definition = self._request.definition
            self._stopped_by = definition.stop_condition(event.type, event.status, event.opted_out)

    @property
    def _stopping(self) -> bool:
        return self._cancel_requested or self._stopped_by is not None

    @workflow.signal
    def cancel(self) -> None:
        self._cancel_requested = True

    @workflow.signal
    def retry_step(self) -> None:
        self._retry_requested = True

    @workflow.query
    def current_step(self) -> str | None:
        return self._step

    @workflow.query
    def next_timer(self) -> datetime | None:
        return self._next_timer

    @workflow.query
    def progress(self) -> FlowRunProgress:
        return FlowRunProgress(
            self._status, self._step, self._next_timer, self._error, str(self._stopped_by or "")
        )

    # --- the run ---------------------------------------------------------------------------

    @workflow.run
    async def run(self, request: FlowRunInput) -> FlowRunResult:
        self._request = request
        definition = request.definition
        step_id: str | None = definition.steps[0].id
        if request.carried is not None:
            step_id = request.carried.step_id
            self._received = list(request.carried.received) + self._received
            self._consumed = list(request.carried.consumed)
            self._seq = request.carried.progress_seq
            self._tasks = dict(request.carried.created_tasks)
            self._repeats = dict(request.carried.repeats)
        for event in self._received:  # carried over, or signalled before the run began
            self._notice_stop(event)
        try:
            while step_id is not None and not self._stopping:
                if self._history_is_long():
                    self._continue_as_new(request, step_id)
                step = definition.step(step_id)
                self._step = step.id
                try:
                    step_id = await self._perform(definition, step)
                except StepFailed as failure:
                    if not await self._stall(str(failure)):
                        break
        except asyncio.CancelledError:
            # Cancelled through Temporal itself (its UI or CLI): say so, then end as cancelled.
            self._cancel_requested = True
            self._status = FlowRunStatus.CANCELLED
            self._next_timer = None
            await self._report()
            raise
        return await self._finish()

    @staticmethod
    def _history_is_long() -> bool:
        info = workflow.info()
        if info.is_continue_as_new_suggested():
            return True
        # Asked only once past the limit, so shorter runs record no patch marker.
        return info.get_current_history_length() >= HISTORY_LIMIT and workflow.patched(
            HISTORY_LIMIT_PATCH
        )

    def _continue_as_new(self, request: FlowRunInput, step_id: str) -> None:
        carried = CarriedState(
            step_id=step_id,
            received=list(self._received),
            consumed=self._consumed[-REMEMBERED_EVENTS:],
            progress_seq=self._seq,
            created_tasks=dict(self._tasks),
            repeats=dict(self._repeats),
        )
        workflow.continue_as_new(replace(request, carried=carried))

    async def _perform(self, definition: FlowDefinition, step: Step) -> str | None:
        """Do one step; the id of the step to go to next, None to end."""
        if isinstance(step, WaitStep):
            await self._wait(step)
            return definition.following(step)
        if isinstance(step, WaitForSignalStep):
            if await self._wait_for_signal(step):
                return definition.following(step)
            return None if self._stopping else step.on_timeout
        if isinstance(step, EndStep):
            return None
        if isinstance(step, RepeatStep):
            self._repeats[step.id] = self._repeats.get(step.id, 0) + 1
            return step.again if self._repeats[step.id] < step.times else step.then
        await self._set(FlowRunStatus.RUNNING)
        if isinstance(step, BranchStep):
            record = await self._read_record()
            return step.then if step.condition.holds(record) else step.else_
        if isinstance(step, SendEmailStep):
            await self._send_email(step)
        elif isinstance(step, TransitionStep):
            await self._transition(step)
        elif isinstance(step, NotifyStep):
            await self._notify(step)
        elif isinstance(step, CreateCallingTaskStep):
            await self._create_calling_task(step)
        elif isinstance(step, AssignStep):
            await self._assign(step)
        return definition.following(step)

    async def _finish(self) -> FlowRunResult:
        if self._cancel_requested:
            self._status = FlowRunStatus.CANCELLED
        elif self._stopped_by is not None:
            workflow.logger.info("flow run stopped: %s", self._stopped_by)
            self._status = FlowRunStatus.STOPPED
        elif self._status is not FlowRunStatus.FAILED:
            self._status = FlowRunStatus.COMPLETED
        self._next_timer = None
        await self._report()
        if self._status is FlowRunStatus.FAILED:
            # Shown as a failed workflow in the Temporal UI, with the step and the reason.
            raise ApplicationError(
                f"step '{self._step}' failed and was not retried: {self._error}",
                type="FlowStepFailed",
                non_retryable=True,
            )
        return FlowRunResult(self._status, self._step, str(self._stopped_by or ""))

    async def _stall(self, error: str) -> bool:
        """Wait for a retry (True) or a cancel (False); after STALLED_RUN_KEPT the run fails."""
        workflow.logger.warning("flow step '%s' failed: %s", self._step, error)
        self._retry_requested = False
        self._error = error
        self._next_timer = workflow.now() + STALLED_RUN_KEPT
        await self._set(FlowRunStatus.STALLED)
        try:
            await workflow.wait_condition(
                lambda: self._retry_requested or self._stopping,
                timeout=STALLED_RUN_KEPT,
                timeout_summary="stalled-run-kept",
            )
        except TimeoutError:
            self._status = FlowRunStatus.FAILED
            return False
        if self._stopping:
            return False
        self._retry_requested = False
        self._error = ""
        self._next_timer = None
        return True

    # --- progress --------------------------------------------------------------------------

    async def _set(self, status: FlowRunStatus) -> None:
        self._status = status
        if status is not FlowRunStatus.WAITING and status is not FlowRunStatus.STALLED:
            self._next_timer = None
        await self._report()

    async def _report(self) -> None:
        assert self._request is not None
        self._seq += 1
        progress = FlowProgress(
            agency_id=self._request.agency_id,
            seq=self._seq,
            status=self._status,
            current_step=self._step,
            next_wake_at=self._next_timer,
            last_error=self._error,
            stop_reason=str(self._stopped_by or ""),
        )
        try:
            await workflow.execute_activity(
                record_flow_progress,
                progress,
                start_to_close_timeout=PROGRESS_TIMEOUT,
                schedule_to_close_timeout=PROGRESS_DEADLINE,
                retry_policy=PROGRESS_RETRY,
            )
        except ActivityError as error:
            workflow.logger.warning("flow progress not recorded: %s", _reason(error))

    # --- steps -----------------------------------------------------------------------------

    def _ref(self) -> RecordRef:
        assert self._request is not None
        request = self._request
        return RecordRef(
            agency_id=request.agency_id,
            record_type=request.record_type,
            record_id=request.record_id,
            flow_key=request.flow_key,
        )

    async def _read_record(self) -> dict[str, Any]:
        try:
            return await workflow.execute_activity(
                read_record,
                self._ref(),
                start_to_close_timeout=DOMAIN_TIMEOUT,
                schedule_to_close_timeout=DOMAIN_DEADLINE,
                retry_policy=DOMAIN_RETRY,
            )
        except ActivityError as error:
            raise StepFailed(f"the record could not be read: {_reason(error)}") from error

    async def _until(self, until: Until) -> timedelta:
        """How long from now until a moment: a fixed time, or a time field of the record."""
        if isinstance(until, RecordTime):
            record = await self._read_record()
            moment = _as_time(field_value(record, until.field))
            if moment is None:
                raise StepFailed(f"the record's field '{until.field}' holds no time")
            return moment + until.shift() - workflow.now()
        return until - workflow.now()

    async def _wait(self, step: WaitStep) -> None:
        if step.duration is not None:
            delay = parse_duration(step.duration)
        else:
            assert step.until is not None
            delay = await self._until(step.until)
        if delay <= timedelta(0):
            return
        self._next_timer = workflow.now() + delay
        await self._set(FlowRunStatus.WAITING)
        with contextlib.suppress(TimeoutError):  # the timeout is the wait being over
            await workflow.wait_condition(
                lambda: self._stopping, timeout=delay, timeout_summary=step.id
            )

    def _matching(self, step: WaitForSignalStep) -> RecordEvent | None:
        task = self._tasks.get(step.task) if step.task is not None else None
        for event in self._received:
            if event.type != step.event:
                continue
            if step.status is not None and event.status != step.status:
                continue
            if step.task is not None and (task is None or event.record_id != task.task_id):
                continue
            return event
        return None

    def _take(self, step: WaitForSignalStep) -> bool:
        event = self._matching(step)
        if event is None:
            return False
        self._received.remove(event)
        self._consumed.append(event.id)
        return True

    async def _wait_for_signal(self, step: WaitForSignalStep) -> bool:
        """True when the event came (now, or since the run started and not yet used)."""
        if self._take(step):
            return True
        if step.timeout is not None:
            timeout = parse_duration(step.timeout)
        else:
            assert step.until is not None
            timeout = await self._until(step.until)
            if timeout <= timedelta(0):
                return False
        self._next_timer = workflow.now() + timeout
        await self._set(FlowRunStatus.WAITING)
        try:
            await workflow.wait_condition(
                lambda: self._stopping or self._matching(step) is not None,
                timeout=timeout,
                timeout_summary=step.id,
            )
        except TimeoutError:
            return False
        return self._take(step)

    async def _send_email(self, step: SendEmailStep) -> None:
        record = await self._read_record()
        recipients = _recipients(step.to, record)
        subject = render(step.subject, record, one_line=True) if step.subject else ""
        body = render(step.body, record) if step.body else ""
        if not workflow.patched(MESSAGING_PATCH):
            await self._send_email_directly(step, recipients, subject, body)
            return
        message = FlowMessageInput(
            record=self._ref(),
            recipients=recipients,
            to_record="@" not in step.to,
            template=step.template or "",
            subject=subject,
            body=body,
            kind=str(step.kind or TemplateKind.SALES),
        )
        try:
            outcome = await workflow.execute_activity_method(
                MessageActivities.send_flow_message,
                message,
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=SEND_DEADLINE,
                retry_policy=SEND_RETRY,
            )
        except ActivityError as error:
            raise StepFailed(f"the email was not sent: {_reason(error)}") from error
        if outcome.status == "failed":
            raise StepFailed(f"the email was not sent: {outcome.reason}")
        if outcome.status == "skipped":
            # The person's choice (or a bounced address) is an outcome, not a fault.
            workflow.logger.info("flow step '%s': not sent (%s)", step.id, outcome.reason)

    async def _send_email_directly(
        self, step: SendEmailStep, recipients: list[str], subject: str, body: str
    ) -> None:
        """How runs started before messages were recorded send (kept for their replay)."""
        if not recipients:
            raise StepFailed(f"the record has no email address in '{step.to}'")
        email = SendEmailInput(to=recipients, subject=subject, body=body)
        try:
            await workflow.execute_activity_method(
                EmailActivities.send_email,
                email,
                start_to_close_timeout=SEND_TIMEOUT,
                schedule_to_close_timeout=SEND_DEADLINE,
                retry_policy=SEND_RETRY,
            )
        except ActivityError as error:
            raise StepFailed(f"the email was not sent: {_reason(error)}") from error

    async def _transition(self, step: TransitionStep) -> None:
        try:
            await workflow.execute_activity(
                apply_lifecycle_event,
                LifecycleEventInput(record=self._ref(), event=step.event),
                start_to_close_timeout=DOMAIN_TIMEOUT,
                schedule_to_close_timeout=DOMAIN_DEADLINE,
                retry_policy=DOMAIN_RETRY,
            )
        except ActivityError as error:
            raise StepFailed(f"{step.event} was not applied: {_reason(error)}") from error

    def _assignee_of(self, task_step: str) -> str:
        task = self._tasks.get(task_step)
        if task is None:
            raise StepFailed(f"step '{task_step}' has not created a calling task in this run")
        return task.assignee_id

    async def _notify(self, step: NotifyStep) -> None:
        record = await self._read_record()
        person = ""
        task_step = person_task_step(step.to)
        if step.to == OWNER:
            user_id = field_value(record, OWNER_FIELD)
        elif task_step is not None:
            user_id = self._assignee_of(task_step)
        elif person_role(step.to) is not None:
            user_id, person = "", step.to  # the activity picks the user
        else:
            user_id = step.to
        if not user_id and not person:
            # A notification is internal: a record without an owner skips it, the run goes on.
            workflow.logger.info("flow step '%s': the record has no owner to notify", step.id)
            return
        notification = (
            NotifyInput(
                record=self._ref(),
                user_id="",
                message=render(step.message, record),
                person=person,
                kind=str(step.kind or NotificationKind.FLOW),
            )
            if person
            else NotifyInput(
                record=self._ref(),
                user_id=str(user_id),
                message=render(step.message, record),
                kind=str(step.kind or NotificationKind.FLOW),
            )
        )
        try:
            await workflow.execute_activity(
                notify_user,
                notification,
                start_to_close_timeout=DOMAIN_TIMEOUT,
                schedule_to_close_timeout=DOMAIN_DEADLINE,
                retry_policy=DOMAIN_RETRY,
            )
        except ActivityError as error:
            raise StepFailed(f"the notification was not left: {_reason(error)}") from error

    def _person(self, person: str) -> str:
        """The person as the activities take it: `assignee:<step>` becomes that user's id."""
        task_step = person_task_step(person)
        return self._assignee_of(task_step) if task_step is not None else person

    async def _create_calling_task(self, step: CreateCallingTaskStep) -> None:
        record = await self._read_record()
        request = CreateCallingTaskInput(
            record=self._ref(),
            about=str(step.about),
            subject=render(step.title, record, one_line=True)[:MAX_TITLE_LENGTH],
            notes=render(step.notes, record),
            due_at=workflow.now() + parse_duration(step.due_in),
            assignee=self._person(step.assignee),
        )
        try:
            self._tasks[step.id] = await workflow.execute_activity(
                create_calling_task,
                request,
                start_to_close_timeout=DOMAIN_TIMEOUT,
                schedule_to_close_timeout=DOMAIN_DEADLINE,
                retry_policy=DOMAIN_RETRY,
            )
        except ActivityError as error:
            raise StepFailed(f"the calling task was not created: {_reason(error)}") from error

    async def _assign(self, step: AssignStep) -> None:
        request = AssignInput(record=self._ref(), as_=step.as_, person=self._person(step.to))
        try:
            await workflow.execute_activity(
                assign_record,
                request,
                start_to_close_timeout=DOMAIN_TIMEOUT,
                schedule_to_close_timeout=DOMAIN_DEADLINE,
                retry_policy=DOMAIN_RETRY,
            )
        except ActivityError as error:
            raise StepFailed(f"the record was not assigned: {_reason(error)}") from error
