"""Message templates: the agency's own words for the messages it sends, versioned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.message_templates import TemplateErrorCode, TemplateKind, TemplateStatus, TemplateView
from resolvers import message_templates as resolve
from resolvers.errors import Outcome
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    created_at,
    error_code,
    error_field,
    error_message,
    payload_errors,
    payload_record,
)

described_enum(
    TemplateKind,
    "MessageTemplateKind",
    "What kind of message a template sends; opt-outs are per kind.",
    {
        "TRANSACTIONAL": (
            "Service messages a person needs (receipts, booking confirmations); no one can opt "
            "out of them."
        ),
        "SALES": "One-to-one sales messages, e.g. a flow's follow-ups.",
        "MARKETING": "Promotions, newsletters and campaigns.",
        "GREETINGS": "Birthday and season's greetings.",
    },
)
described_enum(
    TemplateStatus,
    "MessageTemplateStatus",
    "Where a template version is.",
    {
        "DRAFT": "The editable version; not sent.",
        "PUBLISHED": "The version sends use.",
        "ARCHIVED": "An earlier published version; kept, never changed.",
    },
)
error_code_enum(TemplateErrorCode, "MessageTemplateErrorCode", "message templates")


@strawberry.type(description="One text of a template; published and archived ones never change.")
class MessageTemplateVersion:
    version: int | None = strawberry.field(description="Null for the draft.")
    status: TemplateStatus = strawberry.field(description="Where this version is.")
    subject: str = strawberry.field(description="The subject template.")
    text_body: str = strawberry.field(description="The plain-text body template.")
    html_body: str = strawberry.field(description="Sanitised when saved; may be empty.")
    created_at: datetime = created_at()
    published_at: datetime | None = strawberry.field(
        description="When it was published; null for the draft."
    )


@strawberry.type(
    description="A message template of the agency, by key. Variables: `recipient` (first_name, "
    "last_name, full_name, email, company_name, job_title), `owner` (name, email), `agency` "
    "(name, website, street, city, region, postal_code, country)."
)
class MessageTemplate:
    @strawberry.field(description="Its key: how sends and flows name it.")
    def key(self, root: strawberry.Parent[TemplateView]) -> str:
        return root.template.key

    @strawberry.field(description="What it is called.")
    def name(self, root: strawberry.Parent[TemplateView]) -> str:
        return root.template.name

    @strawberry.field(description="What kind of message it sends.")
    def kind(self, root: strawberry.Parent[TemplateView]) -> TemplateKind:
        return TemplateKind(root.template.kind)

    @strawberry.field(description="The version messages are sent with; null until published.")
    def published(self, root: strawberry.Parent[TemplateView]) -> MessageTemplateVersion | None:
        return root.published  # type: ignore[return-value]

    @strawberry.field(description="The version being edited, if any.")
    def draft(self, root: strawberry.Parent[TemplateView]) -> MessageTemplateVersion | None:
        return root.draft  # type: ignore[return-value]


@strawberry.type(description="A template rendered for one recipient.")
class RenderedMessage:
    subject: str = strawberry.field(description="The subject as the record would receive it.")
    text_body: str = strawberry.field(description="The plain-text body as rendered.")
    html_body: str = strawberry.field(
        description="The HTML body as rendered (empty for a text-only template)."
    )


@strawberry.type(description="A problem with the input; nothing was changed.")
class MessageTemplateError:
    field: str | None = error_field()
    code: TemplateErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class MessageTemplatePayload:
    template: MessageTemplate | None = payload_record("template")
    errors: list[MessageTemplateError] = payload_errors()


@strawberry.input(
    description="A new template (at most 200 per agency), as a draft. Errors: REQUIRED, "
    "TOO_LONG, INVALID, KEY_TAKEN, INVALID_TEMPLATE, TOO_MANY, FORBIDDEN."
)
class CreateMessageTemplateInput:
    key: str = strawberry.field(description="a-z, 0-9, - and _; unique in the agency.")
    name: str = strawberry.field(description="1 to 200 characters.")
    kind: TemplateKind = strawberry.field(
        description="What kind of message it sends; opt-outs are per kind."
    )
    subject: str = strawberry.field(
        description="The subject, a template (e.g. Hello {{ first_name }}): at most 255 "
        "characters once rendered."
    )
    text_body: str = strawberry.field(
        description="The plain-text body, a template: at most 100,000 characters."
    )
    html_body: str = strawberry.field(
        default="",
        description="The HTML body, a template (escaped): at most 200,000 characters; empty "
        "for text only.",
    )


@strawberry.input(description="Fields left out are unchanged; the text goes to the draft.")
class EditMessageTemplateInput:
    key: str = strawberry.field(description="The template's key; it never changes.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters."
    )
    kind: TemplateKind | None = strawberry.field(
        default=strawberry.UNSET, description="What kind of message it sends."
    )
    subject: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 255 characters once rendered."
    )
    text_body: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 100,000 characters."
    )
    html_body: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 200,000 characters."
    )


@strawberry.input(description="The template whose draft to publish.")
class PublishMessageTemplateInput:
    key: str = strawberry.field(
        description="The template's key; it must have a draft (else NO_DRAFT)."
    )


@strawberry.type
class MessageTemplateQuery:
    @strawberry.field(description="The agency's templates, by key.")
    async def message_templates(self, info: Info) -> list[MessageTemplate]:
        return await resolve.message_templates(info.context)  # type: ignore[return-value]

    @strawberry.field(
        description="One template by its key, with its draft and versions; null when the "
        "agency has none."
    )
    async def message_template(
        self, info: Info, key: Annotated[str, strawberry.argument(description="The template key.")]
    ) -> MessageTemplate | None:
        return await resolve.message_template(info.context, key)  # type: ignore[return-value]

    @strawberry.field(
        description="Render a template (its draft, else its published version, or `version`) "
        "for a contact or customer you can see."
    )
    async def preview_message_template(
        self,
        info: Info,
        key: Annotated[str, strawberry.argument(description="The template key.")],
        record_id: Annotated[
            relay.GlobalID,
            strawberry.argument(description="The Contact or Customer to render it for."),
        ],
        version: Annotated[
            int | None,
            strawberry.argument(
                description="A version number; left out: the draft, else the published version."
            ),
        ] = None,
    ) -> RenderedMessage:
        return await resolve.preview(info.context, key, record_id, version)  # type: ignore[return-value]


def _payload(outcome: Outcome[Any]) -> MessageTemplatePayload:
    return MessageTemplatePayload(
        template=outcome.value, errors=errors_as(MessageTemplateError, outcome.errors)
    )


@strawberry.type
class MessageTemplateMutation:
    @strawberry.mutation(description="Admins and sysadmins: a new template, as a draft.")
    async def create_message_template(
        self, info: Info, input: Annotated[CreateMessageTemplateInput, MUTATION_INPUT]
    ) -> MessageTemplatePayload:
        return _payload(await resolve.create(info.context, input))

    @strawberry.mutation(description="Change a template's name, kind or draft text.")
    async def edit_message_template(
        self, info: Info, input: Annotated[EditMessageTemplateInput, MUTATION_INPUT]
    ) -> MessageTemplatePayload:
        return _payload(await resolve.edit(info.context, input))

    @strawberry.mutation(description="Publish the draft as the next version.")
    async def publish_message_template(
        self, info: Info, input: Annotated[PublishMessageTemplateInput, MUTATION_INPUT]
    ) -> MessageTemplatePayload:
        return _payload(await resolve.publish(info.context, input.key))
