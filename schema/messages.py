"""Messages to contacts and customers: send one, and read what was sent and why not."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.message_kinds import TemplateKind
from domain.messages import Message as MessageRecord
from domain.messages import MessageErrorCode, MessageStatus
from resolvers import messages as resolve
from resolvers.events import graphql_type_of
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
)

described_enum(
    MessageStatus,
    "MessageStatus",
    "Where a message is.",
    {
        "QUEUED": "Accepted; being sent.",
        "SENT": "Handed to the mail server.",
        "SKIPPED": "Not sent: the person opted out, has no address or is undeliverable.",
        "FAILED": "Sending failed for good.",
    },
)
error_code_enum(MessageErrorCode, "MessageErrorCode", "messages")


@strawberry.type(
    description="A message to a contact or customer, kept as rendered: what was said, with which "
    "template version, by whom, and the outcome."
)
class Message(relay.Node):
    id: relay.NodeID[str] = node_id()
    kind: TemplateKind
    status: MessageStatus
    reason: str = strawberry.field(
        description="Why it was skipped (opted_out, undeliverable, no_address) or failed."
    )
    subject: str
    text_body: str
    html_body: str
    recipients: list[str]
    template_key: str = strawberry.field(description="Empty for free text.")
    template_version: int | None
    source: str = strawberry.field(description="Who asked: flow:<key> or user:<id>.")
    message_id: str = strawberry.field(description="The Message-ID header, once sent.")
    created_at: datetime = created_at()
    sent_at: datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, MessageRecord))

    @classmethod
    def from_row(cls, row: MessageRecord) -> Message:
        return row  # type: ignore[return-value]

    @strawberry.field(description="The Contact or Customer it went to.")
    def record_id(self, root: strawberry.Parent[MessageRecord]) -> relay.GlobalID:
        return relay.GlobalID(graphql_type_of(root.record_type), root.record_id)


@strawberry.type(description="A problem with the input; nothing was sent or queued.")
class MessageError:
    field: str | None = error_field()
    code: MessageErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class SendMessagePayload:
    message: Message | None = strawberry.field(
        description="Queued: its status becomes sent, skipped or failed when the worker sends it."
    )
    errors: list[MessageError] = payload_errors()


@strawberry.input(description="A template's key, or a subject and body written by hand.")
class SendMessageInput:
    record_id: relay.GlobalID = strawberry.field(description="A Contact or Customer you can see.")
    template: str | None = strawberry.UNSET
    subject: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    idempotency_key: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Sending again with the same key returns the first message, never a copy.",
    )


@strawberry.type
class MessageMutation:
    @strawberry.mutation(
        description="Send a one-off message to a contact or customer you can see; consent is "
        "checked when it is sent."
    )
    async def send_message(
        self, info: Info, input: Annotated[SendMessageInput, MUTATION_INPUT]
    ) -> SendMessagePayload:
        outcome = await resolve.send(info.context, input)
        return SendMessagePayload(
            message=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(MessageError, outcome.errors),
        )
