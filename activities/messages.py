"""Message activities: queue a flow's message and deliver queued ones, consent checked at send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from tortoise.exceptions import DoesNotExist

from activities.email import idempotency_key
from activities.flows import RecordRef, flow_actor, refusal
from domain import messages
from domain.emails import SmtpConfig
from domain.errors import DomainError
from domain.message_kinds import RECIPIENT_TYPES, TemplateKind
from domain.message_rendering import TemplateParts
from domain.signed_links import LinkConfig


@dataclass(frozen=True)
class FlowMessageInput:
    """A flow's `send_email` step: a template key, or the inline text the workflow rendered.

    `recipients` are the addresses the step resolved; `to_record` says whether they are the
    record's own (its consent applies) or fixed ones written in the flow.
    """

    record: RecordRef
    recipients: list[str]
    to_record: bool
    template: str = ""
    subject: str = ""
    body: str = ""
    kind: str = TemplateKind.SALES.value


@dataclass(frozen=True)
class MessageOutcome:
    message_id: int
    status: str
    reason: str = ""
    smtp_message_id: str = ""
    recipients: list[str] = field(default_factory=list)


def _outcome(message: messages.Message) -> MessageOutcome:
    return MessageOutcome(
        message_id=message.id,
        status=message.status,
        reason=message.reason,
        smtp_message_id=message.message_id,
        recipients=list(message.recipients),
    )


class MessageActivities:
    """Activities that send through one SMTP relay, with links to one public address."""

    def __init__(self, smtp: SmtpConfig, links: LinkConfig) -> None:
        self._smtp = smtp
        self._links = links

    def activities(self) -> list[Callable[..., Any]]:
        """What a worker registers."""
        return [self.send_flow_message, self.deliver_message]

    @activity.defn(name="send_flow_message")
    async def send_flow_message(self, request: FlowMessageInput) -> MessageOutcome:
        """Queue (once per step and run) and deliver. A refused message is an outcome, not a
        failure: skipped or failed, the flow goes on."""
        record = request.record
        text = None if request.template else TemplateParts(request.subject, request.body)
        try:
            message, _ = await messages.queue_message(
                flow_actor(record),
                messages.MessageRequest(
                    record_type=record.record_type,
                    record_id=record.record_id,
                    idempotency_key=idempotency_key(activity.info()),
                    source=f"flow:{record.flow_key}",
                    template_key=request.template,
                    text=text,
                    kind=TemplateKind(request.kind),
                    recipients=list(request.recipients),
                    # Only contacts and customers have consent to check; an address read from
                    # another record (a calling task's) is sent to like a fixed one.
                    to_record=request.to_record and record.record_type in RECIPIENT_TYPES,
                ),
            )
        except DomainError as error:
            raise refusal(error) from error
        return _outcome(await self._deliver(message.id))

    @activity.defn(name="deliver_message")
    async def deliver_message(self, message_id: int) -> MessageOutcome:
        return _outcome(await self._deliver(message_id))

    async def _deliver(self, message_id: int) -> messages.Message:
        try:
            return await messages.deliver_message(self._smtp, self._links, message_id)
        except DoesNotExist as error:
            raise ApplicationError(
                f"no message {message_id}", type="NOT_FOUND", non_retryable=True
            ) from error
