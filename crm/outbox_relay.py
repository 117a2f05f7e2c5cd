"""The outbox relay: delivers the domain's outbox to Temporal, retrying with backoff.

It starts flow runs and signals them, starts the deliveries of queued messages, starts,
schedules and cancels broadcasts, starts and cancels meeting reminders, and tells campaigns'
period runs their period. It lives in
`crm` because it talks to Temporal; the rows come from the domain, written in the same
transaction as the change that caused them, so nothing is lost while Temporal is away: the
rows wait, and the relay backs off and tries again.

Delivery is at least once, and a second delivery is harmless: a start uses the row's
workflow id with REJECT_DUPLICATE, so an already-started run answers "already started"
(counted as delivered, never a second run), and a run ignores an event it has seen. That also
makes several relays (one per worker process) safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from opentelemetry.trace import SpanKind
from temporalio.client import Client, ScheduleAlreadyRunningError, WorkflowExecutionStatus
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from crm.logging import WORKER_LOGGER
from crm.report_schedules import sync_report_schedule
from crm.schedules import broadcast_schedule
from db.busy import is_busy
from domain.business_time import BusinessCalendar
from domain.flow_triggers import SIGNAL_CANCEL, SIGNAL_RECORD_EVENT, SIGNAL_RETRY_STEP
from domain.flows.definitions import FlowDefinition
from domain.metrics import OUTBOX_RELAYED
from domain.outbox import OutboxKind, OutboxMessage, due_messages, mark_delivered, mark_failed
from domain.tracing import span, trace_of
from workflows.broadcast import SendBroadcast, SendBroadcastInput
from workflows.campaign_period import CampaignPeriod, CampaignPeriodInput, Period
from workflows.contact_score import SIGNAL as SCORE_SIGNAL
from workflows.contact_score import ContactScoreWatch, ScoreWatchInput
from workflows.flow_run import FlowRun, FlowRunInput, RecordEvent
from workflows.inbound_email import ProcessInboundEmail, ProcessInboundEmailInput
from workflows.meeting_reminder import MeetingReminder, MeetingReminderInput
from workflows.message_delivery import DeliverMessage, DeliverMessageInput
from workflows.record_import import ImportRecords, ImportRecordsInput
from workflows.ticket_closing import TicketClosing, TicketClosingInput
from workflows.ticket_sla import ClockSignal, ClockTargets, TicketSla, TicketSlaInput

log = logging.getLogger(f"{WORKER_LOGGER}.outbox")

# Status codes that mean "Temporal is not there", as opposed to "Temporal said no".
_UNREACHABLE = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})


class TemporalUnreachable(Exception):
    """Temporal did not answer: the rest of the batch would fail the same way."""


class NotDeliverable(Exception):
    """Temporal answered, but the message cannot be delivered now (retried later)."""


@dataclass(frozen=True)
class RelayTiming:
    """How often the relay looks, and how it backs off; tests shorten these."""

    poll_interval: timedelta = timedelta(milliseconds=500)
    first_retry: timedelta = timedelta(seconds=1)
    longest_retry: timedelta = timedelta(minutes=5)
    rpc_timeout: timedelta = timedelta(seconds=10)
    batch_size: int = 100

    def backoff(self, attempts: int) -> timedelta:
        """The wait after `attempts` failed attempts: doubling, capped."""
        delay = self.first_retry * (1 << min(max(attempts - 1, 0), 20))
        return min(delay, self.longest_retry)


@dataclass(frozen=True)
class RelayRound:
    """What one pass over the due messages did."""

    delivered: int = 0
    failed: int = 0
    temporal_unreachable: bool = False


def flow_run_input(payload: dict[str, Any]) -> FlowRunInput:
    """The FlowRun workflow's input from a start message (see domain.flow_triggers)."""
    return FlowRunInput(
        agency_id=payload["agency_id"],
        flow_key=payload["flow_key"],
        version=payload["version"],
        record_type=payload["record_type"],
        record_id=payload["record_id"],
        definition=FlowDefinition.model_validate(payload["definition"]),
    )


class OutboxRelay:
    """Delivers due messages in id order; a run's later messages wait for its earlier ones."""

    def __init__(self, client: Client, task_queue: str, timing: RelayTiming | None = None) -> None:
        self.client = client
        self.task_queue = task_queue
        self.timing = timing or RelayTiming()

    async def relay_due(self) -> RelayRound:
        """One pass over the messages that are due now."""
        delivered = failed = 0
        held_back: set[str] = set()  # workflow ids with an undelivered earlier message
        for message in await due_messages(self.timing.batch_size):
            if message.workflow_id in held_back:
                continue
            try:
                with span(
                    f"outbox relay {message.kind}",
                    SpanKind.PRODUCER,
                    {"crm.outbox.kind": message.kind},
                    parent=trace_of(message.payload),
                ):
                    await self._deliver(message)
            except TemporalUnreachable as error:
                await mark_failed(message, str(error), self.timing.backoff(message.attempts + 1))
                log.warning(
                    "Temporal is not reachable; outbox delivery paused",
                    extra={"error": str(error), "pending_from": message.id},
                )
                return RelayRound(delivered, failed + 1, temporal_unreachable=True)
            except Exception as error:
                retry_in = self.timing.backoff(message.attempts + 1)
                await mark_failed(message, f"{type(error).__name__}: {error}", retry_in)
                log.warning(
                    "outbox message not delivered, retrying later",
                    extra={
                        "message_id": message.id,
                        "workflow_id": message.workflow_id,
                        "attempts": message.attempts,
                        "retry_in_s": retry_in.total_seconds(),
                        "error": str(error),
                    },
                )
                held_back.add(message.workflow_id)
                OUTBOX_RELAYED.labels("retried").inc()
                failed += 1
                continue
            await mark_delivered(message)
            OUTBOX_RELAYED.labels("delivered").inc()
            delivered += 1
        return RelayRound(delivered, failed)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set, backing off while Temporal (or the database) is away."""
        unreachable_rounds = 0
        while not stop.is_set():
            try:
                outcome = await self.relay_due()
            except Exception as error:
                if is_busy(error):  # a write waited its whole bound for the lock: no bug
                    log.warning("database busy; outbox relay retrying", extra={"error": str(error)})
                else:
                    log.exception("outbox relay pass failed; retrying")
                outcome = RelayRound(temporal_unreachable=True)
            if outcome.temporal_unreachable:
                unreachable_rounds += 1
                pause = self.timing.backoff(unreachable_rounds)
            else:
                unreachable_rounds = 0
                busy = outcome.delivered + outcome.failed >= self.timing.batch_size
                pause = timedelta(0) if busy else self.timing.poll_interval
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause.total_seconds()):
                    await stop.wait()

    # --- delivery --------------------------------------------------------------------------

    async def _deliver(self, message: OutboxMessage) -> None:
        try:
            if message.kind == OutboxKind.START_FLOW:
                await self._start(message)
            elif message.kind == OutboxKind.SIGNAL_FLOW:
                await self._signal(message)
            elif message.kind == OutboxKind.DELIVER_MESSAGE:
                await self._deliver_message(message)
            elif message.kind == OutboxKind.START_BROADCAST:
                await self._start_broadcast(message)
            elif message.kind == OutboxKind.SCHEDULE_BROADCAST:
                await self._schedule_broadcast(message)
            elif message.kind == OutboxKind.CANCEL_BROADCAST:
                await self._cancel_broadcast(message)
            elif message.kind == OutboxKind.PROCESS_INBOUND_EMAIL:
                await self._process_inbound_email(message)
            elif message.kind == OutboxKind.START_MEETING_REMINDER:
                await self._start_meeting_reminder(message)
            elif message.kind == OutboxKind.CANCEL_MEETING_REMINDER:
                await self._cancel_meeting_reminder(message)
            elif message.kind == OutboxKind.CAMPAIGN_PERIOD:
                await self._campaign_period(message)
            elif message.kind == OutboxKind.START_TICKET_CLOSING:
                await self._start_ticket_closing(message)
            elif message.kind == OutboxKind.START_TICKET_SLA:
                await self._start_ticket_sla(message)
            elif message.kind == OutboxKind.SIGNAL_TICKET_SLA:
                await self._signal_ticket_sla(message)
            elif message.kind == OutboxKind.WATCH_SCORE:
                await self._watch_score(message)
            elif message.kind == OutboxKind.START_IMPORT:
                await self._start_import(message)
            elif message.kind == OutboxKind.SYNC_REPORT_SCHEDULE:
                await sync_report_schedule(
                    self.client,
                    message.payload,
                    message.workflow_id,
                    self.task_queue,
                    self.timing.rpc_timeout,
                )
            else:
                raise NotDeliverable(f"unknown outbox message kind {message.kind!r}")
        except RPCError as error:
            if error.status in _UNREACHABLE:
                raise TemporalUnreachable(str(error)) from error
            raise
        except RuntimeError as error:
            # The SDK reports a server it cannot connect to as a RuntimeError.
            raise TemporalUnreachable(str(error)) from error

    async def _start_once(
        self, message: OutboxMessage, run: Any, request: Any, what: str, **options: Any
    ) -> None:
        """Start the row's workflow with its id; one already started counts as delivered."""
        try:
            await self.client.start_workflow(
                run,
                request,
                id=message.workflow_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                rpc_timeout=self.timing.rpc_timeout,
                **options,
            )
        except WorkflowAlreadyStartedError:
            log.info(f"{what} already started", extra={"workflow_id": message.workflow_id})

    async def _signal_if_running(self, message: OutboxMessage, signal: Any, what: str) -> None:
        """Signal the row's workflow; one that has ended has nothing to be told."""
        handle = self.client.get_workflow_handle(message.workflow_id)
        try:
            await handle.signal(signal, rpc_timeout=self.timing.rpc_timeout)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info(f"{what} has ended", extra={"workflow_id": message.workflow_id})

    async def _start(self, message: OutboxMessage) -> None:
        request = flow_run_input(message.payload)
        definition = request.definition
        summary = (
            f"{definition.name} v{definition.version} on {request.record_type} {request.record_id}"
        )
        await self._start_once(message, FlowRun.run, request, "flow run", static_summary=summary)

    async def _deliver_message(self, message: OutboxMessage) -> None:
        request = DeliverMessageInput(message_id=int(message.payload["message_id"]))
        await self._start_once(message, DeliverMessage.run, request, "message delivery")

    async def _process_inbound_email(self, message: OutboxMessage) -> None:
        request = ProcessInboundEmailInput(message.payload["inbound_email_id"])
        await self._start_once(message, ProcessInboundEmail.run, request, "inbound email")

    async def _start_broadcast(self, message: OutboxMessage) -> None:
        request = SendBroadcastInput(
            message.payload["broadcast_id"],
            send_at=datetime.fromisoformat(message.payload["send_at"]),
        )
        await self._start_once(message, SendBroadcast.run, request, "broadcast")

    async def _start_import(self, message: OutboxMessage) -> None:
        request = ImportRecordsInput(message.payload["import_id"])
        await self._start_once(message, ImportRecords.run, request, "import")

    async def _schedule_broadcast(self, message: OutboxMessage) -> None:
        schedule = broadcast_schedule(message.payload, message.workflow_id, self.task_queue)
        try:
            await self.client.create_schedule(
                message.workflow_id, schedule, rpc_timeout=self.timing.rpc_timeout
            )
        except ScheduleAlreadyRunningError:
            log.info("broadcast already scheduled", extra={"workflow_id": message.workflow_id})

    async def _cancel_broadcast(self, message: OutboxMessage) -> None:
        """A yearly broadcast's schedule goes; a one-off's run is told. A run under way ends
        after its batch either way (the batch reads the broadcast's status)."""
        if message.payload.get("recurrence", "once") != "once":
            schedule = self.client.get_schedule_handle(message.workflow_id)
            try:
                await schedule.delete(rpc_timeout=self.timing.rpc_timeout)
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
            return
        await self._signal_if_running(message, SendBroadcast.cancel, "broadcast run")

    async def _start_meeting_reminder(self, message: OutboxMessage) -> None:
        request = MeetingReminderInput(
            meeting_id=message.payload["meeting_id"],
            sequence=int(message.payload["sequence"]),
            remind_at=datetime.fromisoformat(message.payload["remind_at"]),
        )
        await self._start_once(message, MeetingReminder.run, request, "meeting reminder")

    async def _cancel_meeting_reminder(self, message: OutboxMessage) -> None:
        """A reminder that has gone out (or never started: its start is earlier in the
        outbox, delivered first) has nothing to cancel."""
        await self._signal_if_running(message, MeetingReminder.cancel, "meeting reminder")

    async def _campaign_period(self, message: OutboxMessage) -> None:
        """Signal-with-start: the campaign's run (started if none runs) waits for this period.
        A second delivery tells the run the same period again, which changes nothing."""
        period = Period(
            starts_at=datetime.fromisoformat(message.payload["starts_at"]),
            ends_at=datetime.fromisoformat(message.payload["ends_at"]),
        )
        await self.client.start_workflow(
            CampaignPeriod.run,
            CampaignPeriodInput(message.payload["campaign_id"], period),
            id=message.workflow_id,
            task_queue=self.task_queue,
            start_signal="move",
            start_signal_args=[period],
            rpc_timeout=self.timing.rpc_timeout,
        )

    async def _watch_score(self, message: OutboxMessage) -> None:
        """Signal-with-start: the contact's score watch (started if none runs) looks again. A
        second delivery makes it look once more, which changes nothing."""
        await self.client.start_workflow(
            ContactScoreWatch.run,
            ScoreWatchInput(message.payload["agency_id"], message.payload["contact_id"]),
            id=message.workflow_id,
            task_queue=self.task_queue,
            start_signal=SCORE_SIGNAL,
            rpc_timeout=self.timing.rpc_timeout,
        )

    async def _start_ticket_closing(self, message: OutboxMessage) -> None:
        request = TicketClosingInput(
            ticket_id=message.payload["ticket_id"],
            resolved_at=datetime.fromisoformat(message.payload["resolved_at"]),
            close_at=datetime.fromisoformat(message.payload["close_at"]),
        )
        await self._start_once(message, TicketClosing.run, request, "ticket closing")

    async def _start_ticket_sla(self, message: OutboxMessage) -> None:
        payload = message.payload
        request = TicketSlaInput(
            ticket_id=payload["ticket_id"],
            calendar=BusinessCalendar(**payload["calendar"]),
            started_at=datetime.fromisoformat(payload["started_at"]),
            first_response_target=payload["first_response_target"],
            resolution_target=payload["resolution_target"],
            warning_share=float(payload["warning_share"]),
        )
        await self._start_once(message, TicketSla.run, request, "ticket SLA")

    async def _signal_ticket_sla(self, message: OutboxMessage) -> None:
        """A ticket's clocks paused, resumed, met, retargeted or stopped; a run that has ended
        (every clock met or breached) has nothing to be told."""
        handle = self.client.get_workflow_handle(message.workflow_id)
        name = message.payload["signal"]
        at = ClockSignal(datetime.fromisoformat(message.payload["at"]))
        targets = ClockTargets(
            message.payload.get("first_response_target"),
            message.payload.get("resolution_target"),
        )
        signals: dict[str, Any] = {
            "pause": (TicketSla.pause, at),
            "resume": (TicketSla.resume, at),
            "responded": (TicketSla.responded, at),
            "retarget": (TicketSla.retarget, targets),
        }
        try:
            if name == "stop":
                await handle.signal(TicketSla.stop, rpc_timeout=self.timing.rpc_timeout)
            elif name in signals:
                signal, argument = signals[name]
                await handle.signal(signal, argument, rpc_timeout=self.timing.rpc_timeout)
            else:
                raise NotDeliverable(f"unknown ticket SLA signal {name!r}")
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            log.info("ticket SLA has ended", extra={"workflow_id": message.workflow_id})

    async def _signal(self, message: OutboxMessage) -> None:
        handle = self.client.get_workflow_handle(message.workflow_id)
        signal = message.payload.get("signal")
        timeout = self.timing.rpc_timeout
        try:
            if signal == SIGNAL_RECORD_EVENT:
                event = RecordEvent(**message.payload["argument"])
                await handle.signal(FlowRun.record_event, event, rpc_timeout=timeout)
            elif signal == SIGNAL_CANCEL:
                await handle.signal(FlowRun.cancel, rpc_timeout=timeout)
            elif signal == SIGNAL_RETRY_STEP:
                await handle.signal(FlowRun.retry_step, rpc_timeout=timeout)
            else:
                raise NotDeliverable(f"unknown signal {signal!r}")
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND and await self._has_ended(message):
                log.info(
                    "flow run has ended; signal dropped",
                    extra={"workflow_id": message.workflow_id, "signal": signal},
                )
                return
            raise

    async def _has_ended(self, message: OutboxMessage) -> bool:
        """A run that ended has nothing to be told; one not started yet will be told later."""
        try:
            description = await self.client.get_workflow_handle(message.workflow_id).describe(
                rpc_timeout=self.timing.rpc_timeout
            )
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return description.status not in (None, WorkflowExecutionStatus.RUNNING)
