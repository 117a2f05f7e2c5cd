"""Email activities: hand a flow's message to `domain.emails`, once per activity."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import emails
from domain.emails import SmtpConfig


@dataclass(frozen=True)
class SendEmailInput:
    """One plain-text email; `to` holds addresses, optionally with display names."""

    to: list[str]
    subject: str
    body: str


@dataclass(frozen=True)
class EmailReceipt:
    """What the SMTP server accepted: the `Message-ID` is the same for every attempt."""

    message_id: str
    recipients: list[str]
    idempotency_key: str


def idempotency_key(info: activity.Info) -> str:
    """The same for every attempt of one activity in one workflow run, different otherwise.

    The run id is part of the key: activity ids restart at 1 in each run, so without it a
    flow that continues-as-new (or a workflow id reused after its run closed) would find the
    keys of an earlier run and skip its own emails.
    """
    if info.workflow_id is None:
        return f"activity:{info.activity_id}"
    return f"{info.workflow_id}:{info.workflow_run_id}:{info.activity_id}"


class EmailActivities:
    """Activities that send email through one SMTP relay."""

    def __init__(self, smtp: SmtpConfig) -> None:
        self._smtp = smtp

    @activity.defn(name="send_email")
    async def send_email(self, request: SendEmailInput) -> EmailReceipt:
        key = idempotency_key(activity.info())
        try:
            sent = await emails.send_email(
                self._smtp, key, request.to, request.subject, request.body
            )
        except (ValueError, emails.EmailRejected) as exc:
            # Retrying cannot fix the input or change the server's mind: fail the flow's step.
            raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=True) from exc
        return EmailReceipt(
            message_id=sent.message_id,
            recipients=list(sent.recipients),
            idempotency_key=sent.idempotency_key,
        )
