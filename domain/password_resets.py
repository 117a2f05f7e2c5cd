"""Resetting a forgotten password through an emailed link, and changing one's own password.

A reset request always writes one `password_reset` row, whether or not the email has an
account (its user is null when it has none), and answers nothing either way: the caller learns
no more than "if this address has an account, a link is on its way". Both outcomes run the
same statements up to the insert; the only extra work for a real account is queueing its
email (two more inserts in the same transaction), and `answer_floor` pads every answer to the
same least duration, so response times do not tell the two apart either.

The email goes through the one sending path (`domain.messages`: a transactional message to
the user's address, delivered by the `DeliverMessage` workflow). Its link is signed at send
time (`domain.signed_links`, purpose `password_reset`) and names only the row: the token is
never stored, logged or audited, nor is any password. A link works while both its own expiry
and the row's hold (`reset_lifetime`, 30 minutes by default), and once: using it spends the
row, and every other unused link of that user with it. A new password ends every session of
the user (someone who knew the old password is signed out).

Changing one's own password needs the current one; a wrong one counts as a failed sign-in
(`domain.auth`'s throttle), so the form cannot be used to guess. Every other session of the
user ends; the session that made the change is kept (its tokens stay valid), so the person
is not signed out of the app they are using.

Requests are throttled per address asked for and per client address (`ResetLimits`); a
throttled request gets TOO_MANY_ATTEMPTS whether the address has an account or not.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.sessions import PasswordReset, Session
from db.users import User
from domain import messages
from domain.actors import Actor
from domain.audit import record_audit
from domain.auth import AuthConfig, check_not_throttled, record_failure
from domain.errors import DomainError
from domain.message_kinds import TemplateKind
from domain.message_rendering import TemplateParts
from domain.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, verify_password
from domain.signed_links import InvalidLink, LinkConfig, LinkPurpose, subject_of

AGGREGATE = "user"


class PasswordErrorCode(StrEnum):
    WRONG_PASSWORD = "WRONG_PASSWORD"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_LINK = "INVALID_LINK"
    INVALID_EMAIL = "INVALID_EMAIL"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    UNAUTHENTICATED = "UNAUTHENTICATED"


@dataclass(frozen=True)
class ResetLimits:
    """How many reset requests an address asked for, and a client address, may make a
    window; and the least time every answer to a request takes."""

    window: timedelta = timedelta(hours=1)
    per_email: int = 3
    per_client_address: int = 20
    answer_floor: timedelta = timedelta(milliseconds=300)


def _now() -> datetime:
    return datetime.now(UTC)


def check_new_password(password: str, field: str = "new_password") -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise DomainError(
            PasswordErrorCode.WEAK_PASSWORD, f"Use {MIN_LENGTH} to {MAX_LENGTH} characters.", field
        )
    return password


async def _end_sessions(user_id: UUID, conn: BaseDBAsyncClient, keep: UUID | None = None) -> int:
    """Revoke the user's open sessions (but `keep`); how many ended."""
    query = Session.filter(user_id=user_id, revoked_at__isnull=True)
    if keep is not None:
        query = query.exclude(id=keep)
    return await query.using_db(conn).update(revoked_at=_now())


async def _spend_resets(user_id: UUID, conn: BaseDBAsyncClient) -> None:
    await (
        PasswordReset.filter(user_id=user_id, used_at__isnull=True)
        .using_db(conn)
        .update(used_at=_now())
    )


async def change_password(
    config: AuthConfig, actor: Actor, current: str, new: str, address: str
) -> int:
    """The signed-in person's own password, given the current one; the number of their other
    sessions ended (the one making the change is kept)."""
    if actor.user_id is None or actor.session_id is None:
        raise DomainError(
            PasswordErrorCode.UNAUTHENTICATED, "Only a signed-in person has a password."
        )
    user = await User.get(id=actor.user_id)
    await check_not_throttled(config, user.email, address)
    if not verify_password(user.password_hash, current[:MAX_LENGTH]):
        await record_failure(user.email, address)
        raise DomainError(
            PasswordErrorCode.WRONG_PASSWORD,
            "The current password is wrong.",
            "current_password",
        )
    check_new_password(new)
    async with in_transaction() as conn:
        user.password_hash = hash_password(new)
        await user.save(using_db=conn, update_fields=["password_hash", "updated_at"])
        ended = await _end_sessions(user.id, conn, keep=actor.session_id)
        await _spend_resets(user.id, conn)
        after = {"other_sessions_ended": ended}
        await record_audit(actor, AGGREGATE, str(user.id), "change_password", {}, after, conn)
    return ended


async def _throttled(limits: ResetLimits, email: str, address: str) -> bool:
    since = _now() - limits.window
    by_email = await PasswordReset.filter(email=email, created_at__gte=since).count()
    by_address = await PasswordReset.filter(address=address, created_at__gte=since).count()
    return by_email >= limits.per_email or by_address >= limits.per_client_address


async def request_password_reset(
    links: LinkConfig, limits: ResetLimits, email: str, address: str
) -> None:
    """Email a reset link if `email` has an active account; the same answer, in the same
    time, whether it has or not (module docstring)."""
    started = time.monotonic()
    try:
        await _request(links, limits, email.strip().lower()[:254], address[:64])
    finally:
        left = limits.answer_floor.total_seconds() - (time.monotonic() - started)
        if left > 0:
            await asyncio.sleep(left)


async def _request(links: LinkConfig, limits: ResetLimits, email: str, address: str) -> None:
    if "@" not in email:
        raise DomainError(PasswordErrorCode.INVALID_EMAIL, "Not an email address.", "email")
    if await _throttled(limits, email, address):
        raise DomainError(
            PasswordErrorCode.TOO_MANY_ATTEMPTS,
            "Too many reset requests; wait a while and try again.",
        )
    user = await User.get_or_none(email=email, is_active=True)
    async with in_transaction() as conn:
        reset = await PasswordReset.create(
            email=email,
            address=address,
            user_id=user.id if user else None,
            expires_at=_now() + links.reset_lifetime,
            using_db=conn,
        )
        if user is not None:
            await _queue_email(user, reset, conn)


async def _queue_email(user: User, reset: PasswordReset, conn: BaseDBAsyncClient) -> None:
    actor = Actor.system(user.agency_id, "password-reset")
    minutes = int((reset.expires_at - reset.created_at).total_seconds() // 60)
    body = (
        f"Hello {user.name},\n\nSomeone (we hope you) asked to reset the password you sign in "
        f"to the CRM with. The link below works once, for {minutes} minutes. If you did not "
        "ask, ignore this email: your password stays as it is."
    )
    await messages.queue_for_delivery(
        actor,
        messages.MessageRequest(
            record_type=AGGREGATE,
            record_id=str(user.id),
            idempotency_key=f"password-reset:{reset.id}",
            source="password_reset",
            text=TemplateParts("Reset your password", body),
            kind=TemplateKind.TRANSACTIONAL,
            recipients=[user.email],
            to_record=False,
            page_link=(LinkPurpose.PASSWORD_RESET, str(reset.id)),
        ),
        conn,
    )
    await record_audit(actor, AGGREGATE, str(user.id), "request_password_reset", {}, {}, conn)


def _reset_id(links: LinkConfig, token: str) -> UUID:
    try:
        return UUID(str(subject_of(links, LinkPurpose.PASSWORD_RESET, token)))
    except ValueError as exc:
        raise InvalidLink from exc


async def _usable(reset_id: UUID, conn: BaseDBAsyncClient | None = None) -> PasswordReset:
    query = PasswordReset.filter(
        id=reset_id, used_at__isnull=True, user_id__isnull=False, expires_at__gt=_now()
    )
    if conn is not None:
        query = query.using_db(conn).select_for_update()
    reset = await query.first()
    if reset is None:
        raise InvalidLink
    return reset


async def check_reset_link(links: LinkConfig, token: str) -> None:
    """`InvalidLink` unless the link may still set a password (forged, altered, expired, used
    and unknown links alike)."""
    await _usable(_reset_id(links, token))


async def reset_password(links: LinkConfig, token: str, new_password: str) -> None:
    """Set a new password with a reset link: `InvalidLink` for any link that cannot, and
    WEAK_PASSWORD (the link stays good) for a password that is not long enough."""
    reset_id = _reset_id(links, token)
    check_new_password(new_password)
    async with in_transaction() as conn:
        reset = await _usable(reset_id, conn)
        user = (
            await User.filter(id=reset.user_id, is_active=True)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if user is None:
            raise InvalidLink
        user.password_hash = hash_password(new_password)
        await user.save(using_db=conn, update_fields=["password_hash", "updated_at"])
        await _spend_resets(user.id, conn)
        ended = await _end_sessions(user.id, conn)
        actor = Actor.system(user.agency_id, "password-reset")
        after = {"sessions_ended": ended}
        await record_audit(actor, AGGREGATE, str(user.id), "reset_password", {}, after, conn)
