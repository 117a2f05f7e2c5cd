"""The caller's notifications: what flows asked them to do, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.notification_kinds import NotificationChannel, NotificationKind
from domain.notifications import Notification as NotificationRecord
from domain.notifications import NotificationErrorCode
from domain.pagination import DEFAULT_PAGE_SIZE
from resolvers import notifications as resolve
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import USE_INPUT, errors_as, one_input
from schema.shared_fields import (
    MUTATION_INPUT,
    After,
    First,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
)

error_code_enum(NotificationErrorCode, "NotificationErrorCode", "notifications")
described_enum(
    NotificationKind,
    "NotificationKind",
    "What a notification is about.",
    {
        "CALLING_TASK_ASSIGNED": "A calling task was given to you.",
        "REMINDER": "A reminder of a task due.",
        "ESCALATION": "Something overdue was escalated to you.",
        "FLOW": "A flow's notify step.",
        "SYSTEM": "The CRM about itself (e.g. a webhook endpoint turned off).",
        "CAMPAIGN_STATUS": "A campaign you own became Active or In-active (by hand or by its "
        "period), or its start was refused (and why).",
        "CAMPAIGN_ACTIVITY": "New views, likes and sign-ups of a campaign you own, batched: at "
        "most one an hour while it runs, none when nothing is new.",
        "CAMPAIGN_SUMMARY": "What your campaigns did today, just after the end of your day in "
        "your time zone.",
        "RECORD_REASSIGNED": "A contact or lead of yours was given to someone else, or one "
        "was given to you.",
    },
)
described_enum(
    NotificationChannel,
    "NotificationChannel",
    "How a kind of notification reaches you.",
    {
        "IN_APP": "The inbox (`notifications`) and your event subscription.",
        "EMAIL": "By email only.",
        "BOTH": "Both the inbox and email.",
        "NONE": "Not at all.",
    },
)

# Record types a notification may be about -> their GraphQL type names.
RECORD_TYPES = {
    "contact": "Contact",
    "customer": "Customer",
    "calling_task": "CallingTask",
    "lead": "Lead",
    "deal": "Deal",
}


@strawberry.type(description="A message for you about a record, e.g. a flow's reminder.")
class Notification(relay.Node):
    id: relay.NodeID[str] = node_id()
    message: str = strawberry.field(description="What happened, in words.")
    kind: NotificationKind = strawberry.field(description="What it is about.")
    source: str = strawberry.field(description="What left it, e.g. flow:customer-onboarding.")
    created_at: datetime = created_at()
    read_at: datetime | None = strawberry.field(
        description="When you marked it read; null while unread."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, NotificationRecord))

    @strawberry.field(description="The record it is about (fetch it with `node`), if any.")
    def record_id(self, root: strawberry.Parent[NotificationRecord]) -> relay.GlobalID | None:
        type_name = RECORD_TYPES.get(root.record_type)
        if type_name is None or not root.record_id:
            return None
        return relay.GlobalID(type_name, root.record_id)


@strawberry.type(description="A problem with the input; nothing was changed.")
class NotificationError:
    field: str | None = error_field()
    code: NotificationErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class MarkNotificationsReadPayload:
    marked: int = strawberry.field(description="How many were unread and are now read.")
    errors: list[NotificationError] = payload_errors()


@strawberry.input(description="Which notifications to mark read.")
class MarkNotificationsReadInput:
    ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="At most 100; leave out to mark every unread one."
    )


@strawberry.type(description="How notifications of one kind reach you.")
class NotificationChannelSetting:
    kind: NotificationKind = strawberry.field(description="The kind of notification.")
    channel: NotificationChannel = strawberry.field(description="How it reaches you.")


@strawberry.input(description="The channel for one kind of notification.")
class NotificationChannelChoice:
    kind: NotificationKind = strawberry.field(description="The kind of notification.")
    channel: NotificationChannel = strawberry.field(description="How it should reach you.")


@strawberry.input(description="How kinds of notification should reach you.")
class SetNotificationChannelsInput:
    channels: list[NotificationChannelChoice] = strawberry.field(
        description="The channel for each kind to change; the kinds not listed keep theirs."
    )


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class NotificationChannelsPayload:
    channels: list[NotificationChannelSetting] = strawberry.field(
        description="Every kind with its channel, after the change."
    )
    errors: list[NotificationError] = payload_errors()


def _settings(
    channels: dict[NotificationKind, NotificationChannel],
) -> list[NotificationChannelSetting]:
    return [NotificationChannelSetting(kind=k, channel=v) for k, v in channels.items()]


@strawberry.type
class NotificationQuery:
    @strawberry.field(description="Your notifications, newest first (people, not API keys).")
    async def notifications(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        unread_only: Annotated[
            bool, strawberry.argument(description="Only the ones not yet marked read.")
        ] = False,
    ) -> relay.Connection[Notification]:
        return await resolve.notifications_page(info.context, first, after, unread_only)

    @strawberry.field(
        description="How each kind of notification reaches you: in the app (your inbox and "
        "event subscription), by email, both, or not at all."
    )
    async def notification_channels(self, info: Info) -> list[NotificationChannelSetting]:
        return _settings(await resolve.channels(info.context))

    @strawberry.field(description="How many of your notifications are unread.")
    async def unread_notification_count(self, info: Info) -> int:
        return await resolve.unread_count(info.context)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Choose how kinds of notification reach you (the kinds not listed keep "
        "theirs); answers every kind's channel. For the signed-in user themselves. "
        "Errors: FORBIDDEN (an API key: notifications belong to people), USER_NOT_FOUND."
    )
    async def set_notification_channels(
        self,
        info: Info,
        input: Annotated[SetNotificationChannelsInput | None, MUTATION_INPUT] = None,
        channels: Annotated[
            list[NotificationChannelChoice] | None,
            strawberry.argument(
                description="The channel for each kind to change.", deprecation_reason=USE_INPUT
            ),
        ] = None,
    ) -> NotificationChannelsPayload:
        given = one_input(
            "setNotificationChannels", input, SetNotificationChannelsInput, channels=channels
        )
        outcome = await resolve.set_channels(info.context, given.channels)
        return NotificationChannelsPayload(
            channels=_settings(outcome.value or {}),
            errors=errors_as(NotificationError, outcome.errors),
        )

    @strawberry.mutation(description="Mark some, or all, of your notifications read.")
    async def mark_notifications_read(
        self, info: Info, input: Annotated[MarkNotificationsReadInput, MUTATION_INPUT]
    ) -> MarkNotificationsReadPayload:
        outcome = await resolve.mark_read(info.context, input.ids)
        return MarkNotificationsReadPayload(
            marked=outcome.value or 0, errors=errors_as(NotificationError, outcome.errors)
        )
