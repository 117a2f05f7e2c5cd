"""Notifications for users: flows leave them, each person reads and clears their own.

A notification is personal: only the user it is for lists it or marks it read, whatever
their role, and an API key (nobody in particular) has none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from db.notifications import Notification as Notification
from db.users import User
from domain.actors import Actor
from domain.errors import DomainError
from domain.events import append_event
from domain.pagination import Ordering, Page, keyset_page

AGGREGATE = "notification"
MAX_MESSAGE_LENGTH = 2_000


class NotificationErrorCode(StrEnum):
    USER_NOT_FOUND = "USER_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    TOO_MANY = "TOO_MANY"


MAX_MARKED_AT_ONCE = 100
NEWEST_FIRST = Ordering("id", descending=True)


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


def _mine(actor: Actor) -> QuerySet[Notification]:
    """The actor's own notifications; an API key has nobody's."""
    if actor.user_id is None:
        raise DomainError(
            NotificationErrorCode.FORBIDDEN, "Notifications belong to people, not API keys."
        )
    return Notification.filter(agency_id=actor.agency_id, user_id=actor.user_id)


async def list_notifications(
    actor: Actor, first: int, after: str | None = None, unread_only: bool = False
) -> Page[Notification]:
    """The actor's notifications, newest first."""
    query = _mine(actor)
    if unread_only:
        query = query.filter(read_at__isnull=True)
    return await keyset_page(query, NEWEST_FIRST, first, after)


async def unread_count(actor: Actor) -> int:
    return await _mine(actor).filter(read_at__isnull=True).count()


async def mark_read(actor: Actor, ids: list[int] | None) -> int:
    """Mark the given notifications (or, with None, every unread one) read; returns how many
    changed. An id that is not the actor's is NOT_FOUND and nothing is marked."""
    query = _mine(actor).filter(read_at__isnull=True)
    if ids is not None:
        if len(ids) > MAX_MARKED_AT_ONCE:
            raise DomainError(
                NotificationErrorCode.TOO_MANY,
                f"Mark at most {MAX_MARKED_AT_ONCE} notifications at once.",
                "ids",
            )
        found: set[int] = set(
            await _mine(actor).filter(id__in=ids).values_list("id", flat=True)  # type: ignore[arg-type]
        )
        for position, wanted in enumerate(ids):
            if wanted not in found:
                raise DomainError(
                    NotificationErrorCode.NOT_FOUND, "No such notification.", f"ids.{position}"
                )
        query = query.filter(id__in=ids)
    return await query.update(read_at=datetime.now(UTC))
