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
    kind: TemplateKind = strawberry.field(description="What kind of message it is.")
    status: MessageStatus = strawberry.field(
        description="Where the message is; SKIPPED ones say why on the timeline."
    )
    reason: str = strawberry.field(
        description="Why it was skipped (opted_out, undeliverable, no_address) or failed."
    )
    subject: str = strawberry.field(description="The subject as sent.")
    text_body: str = strawberry.field(description="The plain-text body as sent.")
    html_body: str = strawberry.field(description="The HTML body as sent (empty for text only).")
    recipients: list[str] = strawberry.field(description="The addresses it went to.")
    template_key: str = strawberry.field(description="Empty for free text.")
    template_version: int | None = strawberry.field(
        description="The template version it was rendered from; null for a one-off text."
    )
    source: str = strawberry.field(description="Who asked: flow:<key> or user:<id>.")
    message_id: str = strawberry.field(description="The Message-ID header, once sent.")
    created_at: datetime = created_at()
    sent_at: datetime | None = strawberry.field(
        description="When the mail server took it; null unless SENT."
    )

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


@strawberry.input(
    description="A one-off message: a template's key, or a subject and a body written by hand. "
    "Errors: REQUIRED, TOO_LONG, INVALID, TEMPLATE_NOT_FOUND, NOT_PUBLISHED, NO_ADDRESS, "
    "UNKNOWN_RECORD_TYPE, NOT_FOUND, FORBIDDEN."
)
class SendMessageInput:
    record_id: relay.GlobalID = strawberry.field(description="A Contact or Customer you can see.")
    template: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A message template's key (its published version); or give subject and body.",
    )
    subject: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="1 to 255 characters, plain text (with `body`, instead of a template).",
    )
    body: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="1 to 100,000 characters, plain text (with `subject`).",
    )
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
