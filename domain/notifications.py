"""Notifications for users: left by flows for now; the list users read comes later."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from db.notifications import Notification as Notification
from db.users import User
from domain.actors import Actor
from domain.errors import DomainError
from domain.events import append_event

AGGREGATE = "notification"
MAX_MESSAGE_LENGTH = 2_000


class NotificationErrorCode(StrEnum):
    USER_NOT_FOUND = "USER_NOT_FOUND"


async def notify_user(
    actor: Actor,
    user_id: UUID,
    message: str,
    record_type: str,
    record_id: str,
    source: str,
    connection: BaseDBAsyncClient,
) -> Notification:
    """Leave a message for a user of the actor's agency, in the caller's transaction."""
    user = User.filter(id=user_id, agency_id=actor.agency_id)
    if not await user.using_db(connection).exists():
        raise DomainError(
            NotificationErrorCode.USER_NOT_FOUND, f"No user with id {user_id}.", "user_id"
        )
    notification = await Notification.create(
        agency_id=actor.agency_id,
        user_id=user_id,
        message=message[:MAX_MESSAGE_LENGTH],
        record_type=record_type,
        record_id=record_id,
        source=source[:255],
        using_db=connection,
    )
    await append_event(
        actor,
        f"{AGGREGATE}.created",
        AGGREGATE,
        str(notification.id),
        {"user_id": str(user_id), "record_type": record_type, "record_id": record_id},
        connection,
    )
    return notification
