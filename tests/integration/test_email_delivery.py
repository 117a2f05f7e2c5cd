"""Email delivery end to end: workflow, activity, domain, a real database and a real SMTP server."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.email import EmailActivities, EmailReceipt, SendEmailInput
from db.emails import SentEmail
from domain.emails import SmtpConfig
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.smtp import SmtpServer
from workflows.email_delivery import DeliverEmail, DeliverEmailInput

WELCOME = DeliverEmailInput(
    to=["Ada Lovelace <ada@example.com>", "grace@example.com"],
    subject="Welcome aboard",
    body="Hello Ada,\n\nyour account is ready.\n",
)


@asynccontextmanager
async def email_worker(client: Client, task_queue: str, smtp: SmtpConfig) -> AsyncIterator[Worker]:
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[DeliverEmail],
        activities=[EmailActivities(smtp).send_email],
    ) as worker:
        yield worker


async def start_delivery(
    client: Client, task_queue: str, request: DeliverEmailInput = WELCOME
) -> WorkflowHandle[DeliverEmail, str]:
    return await client.start_workflow(
        DeliverEmail.run,
        request,
        id=f"deliver-email:{uuid.uuid4()}",
        task_queue=task_queue,
        execution_timeout=timedelta(days=2),
    )


async def send_attempts(handle: WorkflowHandle[DeliverEmail, str]) -> list[int]:
    """The attempt number of each activity in the history; a retried one shows its last."""
    history = await handle.fetch_history()
    return [
        event.activity_task_started_event_attributes.attempt
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]


async def first_attempt_failure(handle: WorkflowHandle[DeliverEmail, str]) -> str:
    """Wait (in real time) until the activity's first attempt has failed; its message."""
    async with asyncio.timeout(10):
        while True:
            description = await handle.describe()
            for pending in description.raw_description.pending_activities:
                if pending.HasField("last_failure"):
                    return pending.last_failure.message
            await asyncio.sleep(0.05)


async def test_deliver_email_hands_the_message_to_smtp_and_records_it(
    db: OpenDatabase, temporal_env: WorkflowEnvironment, task_queue: str, smtp_server: SmtpServer
) -> None:
    client = temporal_env.client
    async with email_worker(client, task_queue, smtp_server.config()):
        handle = await start_delivery(client, task_queue)
        message_id = await handle.result()

    [received] = smtp_server.messages
    assert received.mail_from == "crm@crm.test"
    assert received.rcpt_tos == ["ada@example.com", "grace@example.com"]
    assert received.message["Subject"] == "Welcome aboard"
    assert received.message["To"] == "Ada Lovelace <ada@example.com>, grace@example.com"
    assert received.message["Message-ID"] == message_id
    assert received.message.get_content() == "Hello Ada,\n\nyour account is ready.\n"
    recorded = await SentEmail.get(message_id=message_id)
    assert recorded.recipients == ["ada@example.com", "grace@example.com"]
    assert recorded.idempotency_key.startswith(f"{handle.id}:{handle.result_run_id}:")


async def test_send_email_activity_run_twice_with_one_key_sends_once(
    db: OpenDatabase, smtp_server: SmtpServer
) -> None:
    # Two attempts of one activity: same workflow run and activity id, another attempt number.
    first_attempt = ActivityEnvironment()
    first_attempt.info = dataclasses.replace(
        first_attempt.info, workflow_id="onboarding:customer:7", activity_id="3", attempt=1
    )
    retry = ActivityEnvironment()
    retry.info = dataclasses.replace(first_attempt.info, attempt=2)
    activities = EmailActivities(smtp_server.config())
    request = SendEmailInput(to=["ada@example.com"], subject="Your invoice", body="Attached.")

    sent: EmailReceipt = await first_attempt.run(activities.send_email, request)
    again: EmailReceipt = await retry.run(activities.send_email, request)

    assert len(smtp_server.messages) == 1, "the retried activity sent a second email"
    assert again == sent
    assert await SentEmail.filter(idempotency_key=sent.idempotency_key).count() == 1


async def test_deliver_email_completes_on_the_dev_server(
    db: OpenDatabase,
    temporal_dev_env: WorkflowEnvironment,
    task_queue: str,
    smtp_server: SmtpServer,
) -> None:
    client = temporal_dev_env.client
    async with email_worker(client, task_queue, smtp_server.config()):
        handle = await start_delivery(client, task_queue)
        message_id = await handle.result()

    assert [m.message["Message-ID"] for m in smtp_server.messages] == [message_id]
    assert await send_attempts(handle) == [1]


async def test_deliver_email_retries_while_smtp_is_down_and_delivers_once_it_is_up(
    db: OpenDatabase, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = temporal_env.client
    smtp_server = SmtpServer()  # its port is chosen, but nothing listens there yet
    async with email_worker(client, task_queue, smtp_server.config()):
        handle = await start_delivery(client, task_queue)
        failure = await first_attempt_failure(handle)
        smtp_server.start()
        try:
            # Awaiting the result lets the test server skip the retry back-off.
            message_id = await handle.result()
        finally:
            smtp_server.stop()

    assert "connect" in failure.lower(), f"first attempt failed for another reason: {failure}"
    assert [m.message["Message-ID"] for m in smtp_server.messages] == [message_id]
    assert await send_attempts(handle) == [2], "the delivering attempt was not a retry"


async def test_deliver_email_to_an_unknown_recipient_fails_without_retrying(
    db: OpenDatabase, temporal_env: WorkflowEnvironment, task_queue: str, smtp_server: SmtpServer
) -> None:
    smtp_server.unknown_recipients.add("nobody@example.com")
    request = dataclasses.replace(WELCOME, to=["nobody@example.com"])
    client = temporal_env.client
    async with email_worker(client, task_queue, smtp_server.config()):
        handle = await start_delivery(client, task_queue, request)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()

    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == ("EmailRejected", True)
    assert "550" in cause.message
    assert await send_attempts(handle) == [1]
    assert smtp_server.messages == []
    assert await SentEmail.all().count() == 0
