"""Notifications for users: flows and the CRM leave them, each person reads and clears their
own, and chooses per kind how they arrive (in-app, email, both or none).

A notification is personal: only the user it is for lists it or marks it read, whatever
their role, and an API key (nobody in particular) has none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.notifications import Notification as Notification
from db.users import User
from domain import messages
from domain.actors import Actor
from domain.errors import DomainError
from domain.events import append_event
from domain.message_kinds import TemplateKind
from domain.message_rendering import TemplateParts
from domain.notification_kinds import DEFAULT_CHANNEL, NotificationChannel, NotificationKind
from domain.pagination import Ordering, Page, keyset_page
from domain.record_changes import record_updated

AGGREGATE = "notification"
MAX_MESSAGE_LENGTH = 2_000
EMAIL_SUBJECT_LENGTH = 120


class NotificationErrorCode(StrEnum):
    USER_NOT_FOUND = "USER_NOT_FOUND"
    INVALID = "INVALID"
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
    kind: NotificationKind = NotificationKind.FLOW,
) -> Notification | None:
    """Tell a user of the actor's agency, in the caller's transaction, the way the user chose
    for the kind: an inbox notification (which reaches their event subscription), an email
    through the messaging path, both, or nothing. The inbox notification, if one was made."""
    user = await User.filter(id=user_id, agency_id=actor.agency_id).using_db(connection).first()
    if user is None:
        raise DomainError(
            NotificationErrorCode.USER_NOT_FOUND, f"No user with id {user_id}.", "user_id"
        )
    channel = channel_for(user, kind)
    text = message[:MAX_MESSAGE_LENGTH]
    if channel in (NotificationChannel.EMAIL, NotificationChannel.BOTH):
        await _email(actor, user, kind, text, source, connection)
    if channel not in (NotificationChannel.IN_APP, NotificationChannel.BOTH):
        return None
    notification = await Notification.create(
        agency_id=actor.agency_id,
        user_id=user_id,
        message=text,
        kind=kind,
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


def channel_for(user: User, kind: NotificationKind) -> NotificationChannel:
    chosen = user.notification_channels.get(str(kind))
    return NotificationChannel(chosen) if chosen else DEFAULT_CHANNEL


async def _email(
    actor: Actor,
    user: User,
    kind: NotificationKind,
    text: str,
    source: str,
    connection: BaseDBAsyncClient,
) -> None:
    """Queued with its delivery in the caller's transaction (a service message: no consent
    to check, no unsubscribe link; the user's notification settings are the choice)."""
    first_line = text.splitlines()[0] if text else ""
    subject = (
        first_line
        if len(first_line) <= EMAIL_SUBJECT_LENGTH
        else (first_line[: EMAIL_SUBJECT_LENGTH - 1] + "\u2026")
    )
    body = (
        f"{text}\n\nYou receive {kind.replace('_', ' ')} notifications by email; "
        "change it in your notification settings (setNotificationChannels)."
    )
    await messages.queue_for_delivery(
        actor,
        messages.MessageRequest(
            record_type="user",
            record_id=str(user.id),
            idempotency_key=f"notification:{uuid4()}",
            source=f"notification:{kind}:{source}"[:255],
            text=TemplateParts(subject, body),
            kind=TemplateKind.TRANSACTIONAL,
            recipients=[user.email],
            to_record=False,
        ),
        connection,
    )


async def notification_channels(actor: Actor) -> dict[NotificationKind, NotificationChannel]:
    """The caller's choice for every kind (defaults filled in)."""
    user = await _me(actor)
    return {kind: channel_for(user, kind) for kind in NotificationKind}


async def set_notification_channels(
    actor: Actor, choices: dict[str, str]
) -> dict[NotificationKind, NotificationChannel]:
    """Change the caller's own channels for the kinds given; the others stay."""
    try:
        parsed = {NotificationKind(k): NotificationChannel(v) for k, v in choices.items()}
    except ValueError as exc:
        raise DomainError(NotificationErrorCode.INVALID, str(exc), "channels") from exc
    async with in_transaction() as conn:
        user = await _me(actor, conn)
        before = dict(user.notification_channels)
        after = {**before, **{str(k): str(v) for k, v in parsed.items()}}
        if after != before:
            user.notification_channels = after
            await user.save(using_db=conn, update_fields=["notification_channels", "updated_at"])
            await record_updated(
                actor,
                "user",
                str(user.id),
                {"notification_channels": before},
                {"notification_channels": after},
                conn,
            )
    return {kind: channel_for(user, kind) for kind in NotificationKind}


async def _me(actor: Actor, conn: BaseDBAsyncClient | None = None) -> User:
    if actor.user_id is None:
        raise DomainError(
            NotificationErrorCode.FORBIDDEN, "Notifications belong to people, not API keys."
        )
    query = User.filter(id=actor.user_id, agency_id=actor.agency_id)
    user = await (query.using_db(conn).select_for_update() if conn else query).first()
    if user is None:
        raise DomainError(NotificationErrorCode.USER_NOT_FOUND, "No such user.")
    return user


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
