"""Notification resolvers: the caller's own inbox."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain import notifications
from domain.errors import DomainError
from domain.notification_kinds import NotificationChannel, NotificationKind
from domain.notifications import NotificationErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.pagination import connection


async def notifications_page(
    context: RequestContext, first: int, after: str | None, unread_only: bool
) -> relay.Connection[Any]:
    actor = actor_of(context)
    page = notifications.list_notifications(actor, first, after, unread_only)
    return connection(await answer(page))


async def unread_count(context: RequestContext) -> int:
    return await answer(notifications.unread_count(actor_of(context)))


def _number(global_id: relay.GlobalID, position: int) -> int:
    if global_id.type_name == "Notification" and global_id.node_id.isdigit():
        return int(global_id.node_id)
    raise DomainError(NotificationErrorCode.NOT_FOUND, "No such notification.", f"ids.{position}")


async def mark_read(context: RequestContext, ids: list[relay.GlobalID] | None) -> Outcome[int]:
    actor = actor_of(context)

    async def mark() -> int:
        numbers = None if ids is None else [_number(g, i) for i, g in enumerate(ids)]
        return await notifications.mark_read(actor, numbers)

    return await attempt(NotificationErrorCode, mark)


Channels = dict[NotificationKind, NotificationChannel]


async def channels(context: RequestContext) -> Channels:
    return await answer(notifications.notification_channels(actor_of(context)))


async def set_channels(context: RequestContext, choices: list[Any]) -> Outcome[Channels]:
    actor = actor_of(context)
    wanted = {str(choice.kind): str(choice.channel) for choice in choices}
    return await attempt(
        NotificationErrorCode, lambda: notifications.set_notification_channels(actor, wanted)
    )
