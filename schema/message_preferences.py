"""Consent: which kinds of message a contact or customer receives, and its history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.message_kinds import TemplateKind
from domain.message_preferences import (
    Channel,
    ConsentChange,
    ConsentSource,
    PreferenceErrorCode,
    Preferences,
)
from resolvers import message_preferences as resolve
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    error_code,
    error_field,
    error_message,
    payload_errors,
    payload_record,
)

described_enum(
    TemplateKind,
    "TemplateKind",
    "A kind of message; people opt in and out per kind.",
    {
        "TRANSACTIONAL": "Service messages a person needs; no one can opt out of them.",
        "SALES": "One-to-one sales messages, e.g. a flow's follow-ups.",
        "MARKETING": "Promotions, newsletters and campaigns.",
        "GREETINGS": "Birthday and season's greetings.",
    },
)
described_enum(
    Channel,
    "MessageChannel",
    "How a person prefers to be reached.",
    {
        "EMAIL": "By email.",
        "PHONE": "By phone.",
        "SMS": "By text message.",
        "WHATSAPP": "By WhatsApp.",
    },
)
described_enum(
    ConsentSource,
    "ConsentSource",
    "How a consent change came about.",
    {
        "LINK": "The unsubscribe page of a sent link.",
        "ONE_CLICK": "The mail client's one-click unsubscribe (RFC 8058).",
        "REPLY": "An unsubscribe reply by email.",
        "AGENT": "A user of the agency, for the person.",
        "CAMPAIGN": "The consent box of a campaign's public sign-up form.",
    },
)
error_code_enum(
    PreferenceErrorCode, "MessagePreferenceErrorCode", "message preferences and consent"
)


@strawberry.type(description="One change of consent: kinds opted in and out, how, by whom.")
class ConsentChangeEntry:
    opted_in: list[TemplateKind] = strawberry.field(
        description="Kinds of message the person opted into by this change."
    )
    opted_out: list[TemplateKind] = strawberry.field(
        description="Kinds of message the person opted out of by this change."
    )
    source: ConsentSource = strawberry.field(description="How the change came about.")
    changed_by: str = strawberry.field(description="A user, or system:unsubscribe for links.")
    changed_at: datetime = strawberry.field(description="When it happened.")


@strawberry.type(
    description="What a contact or customer receives. Consent is checked when each message is "
    "sent; transactional messages are not turned off by unsubscribe links."
)
class MessagePreferences:
    receives: list[TemplateKind] = strawberry.field(
        description="Kinds of message the person receives (transactional ones always)."
    )
    channel: Channel = strawberry.field(description="How they prefer to be reached.")
    topics: list[str] = strawberry.field(description="Topics they subscribed to, free text.")

    @strawberry.field(description="Every change, newest first: the proof of consent.")
    async def history(
        self, info: Info, root: strawberry.Parent[Preferences]
    ) -> list[ConsentChangeEntry]:
        changes: list[ConsentChange] = await resolve.history(info.context, root)
        return changes  # type: ignore[return-value]


@strawberry.type(description="A problem with the input; nothing was changed.")
class MessagePreferenceError:
    field: str | None = error_field()
    code: PreferenceErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class MessagePreferencesPayload:
    preferences: MessagePreferences | None = payload_record("preferences")
    errors: list[MessagePreferenceError] = payload_errors()


@strawberry.input(description="Fields left out are unchanged.")
class UpdateMessagePreferencesInput:
    record_id: relay.GlobalID = strawberry.field(description="A Contact or Customer.")
    receives: list[TemplateKind] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole list of kinds they receive; the change is kept as consent history.",
    )
    channel: Channel | None = strawberry.field(
        default=strawberry.UNSET, description="How they prefer to be reached."
    )
    topics: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole list: at most 20 topics, each 1 to 50 characters.",
    )


@strawberry.type
class MessagePreferenceQuery:
    @strawberry.field(description="What a contact or customer you can see receives.")
    async def message_preferences(
        self,
        info: Info,
        record_id: Annotated[
            relay.GlobalID, strawberry.argument(description="A Contact or Customer id.")
        ],
    ) -> MessagePreferences:
        return await resolve.preferences_of(info.context, record_id)  # type: ignore[return-value]


@strawberry.type
class MessagePreferenceMutation:
    @strawberry.mutation(
        description="The owner (whoever may change the record) sets what it receives."
    )
    async def update_message_preferences(
        self, info: Info, input: Annotated[UpdateMessagePreferencesInput, MUTATION_INPUT]
    ) -> MessagePreferencesPayload:
        outcome = await resolve.update(info.context, input)
        return MessagePreferencesPayload(
            preferences=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(MessagePreferenceError, outcome.errors),
        )
