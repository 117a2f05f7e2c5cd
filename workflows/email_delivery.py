"""`DeliverEmail`: a flow step that sends one email, retrying while the SMTP relay is away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities, SendEmailInput

# One SMTP conversation plus its database record (`SmtpConfig.timeout_seconds` is 30 s).
SEND_TIMEOUT = timedelta(minutes=1)
# A relay that is down is retried for a day, backing off to one attempt every ten minutes.
SEND_DEADLINE = timedelta(days=1)
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)


@dataclass(frozen=True)
class DeliverEmailInput:
    to: list[str]
    subject: str
    body: str


@workflow.defn
class DeliverEmail:
    """Sends one email; the result is its `Message-ID`."""

    @workflow.run
    async def run(self, request: DeliverEmailInput) -> str:
        receipt = await workflow.execute_activity_method(
            EmailActivities.send_email,
            SendEmailInput(to=list(request.to), subject=request.subject, body=request.body),
            start_to_close_timeout=SEND_TIMEOUT,
            schedule_to_close_timeout=SEND_DEADLINE,
            retry_policy=SEND_RETRY,
        )
        return receipt.message_id
