"""`DeliverMessage`: delivers one queued message, retrying while the SMTP relay is away."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

from workflows.email_delivery import SEND_DEADLINE, SEND_RETRY, SEND_TIMEOUT

with workflow.unsafe.imports_passed_through():
    from activities.messages import MessageActivities, MessageOutcome


@dataclass(frozen=True)
class DeliverMessageInput:
    message_id: int


@workflow.defn
class DeliverMessage:
    """Sends a message someone queued (`sendMessage`); the result is its outcome."""

    @workflow.run
    async def run(self, request: DeliverMessageInput) -> MessageOutcome:
        return await workflow.execute_activity_method(
            MessageActivities.deliver_message,
            request.message_id,
            start_to_close_timeout=SEND_TIMEOUT,
            schedule_to_close_timeout=SEND_DEADLINE,
            retry_policy=SEND_RETRY,
        )
