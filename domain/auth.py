"""Signing in and out: JWT access tokens, rotating refresh tokens, API keys, throttling.

Access tokens are short-lived JWTs naming a session; each request re-reads the user and the
session, so deactivating a user or signing out takes effect at once. Refresh tokens are
opaque, stored hashed, and good for one use: a reused one revokes its whole session.

Throttling failed sign-ins
--------------------------
Two counts over a window (`failure_window`, 15 minutes by default), both of failures only:

* per account (`max_failures_per_account`, 5): guessing one account's password, from
  anywhere, locks that account for the rest of the window.
* per client address (`max_failures_per_address`, 50): one address trying many accounts (a
  password-spraying bot) is stopped, but only for accounts that have no recent successful
  sign-in from that address (a session opened from it within `known_address_window`, 30
  days). An office behind one NAT shares one address: a colleague's typos, or a bot on the
  same network, must not lock out everyone there who signs in correctly every day.

Alternatives weighed: a much higher per-address limit alone still locks the whole office once
reached, only later; per-(account, address) counts alone let a bot spray every account from
one address. Exempting known (account, address) pairs keeps both defences: the spraying bot
meets the address limit for every account that never signed in from there, and the account
limit still caps guesses on a known account. What it gives away: someone on that shared
address learns, after the address limit, which accounts sign in from it (their next attempt is
not refused as throttled); the per-account limit still holds for those. A person signing in
from a new place behind a busy address waits out the window (at most 15 minutes).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import jwt
from pydantic import BaseModel, SecretStr
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from db.api_keys import ApiKey
from db.sessions import LoginFailure, RefreshToken, Session
from db.users import User
from domain.actors import Actor, ApiScope
from domain.audit import record_audit
from domain.errors import DomainError
from domain.passwords import hash_password, needs_rehash, verify_password
from domain.roles import Role
from domain.users import team_of

API_KEY_PREFIX = "crm_"
JWT_ALGORITHM = "HS256"


class AuthErrorCode(StrEnum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    INVALID_TOKEN = "INVALID_TOKEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"


class AuthConfig(BaseModel):
    """Token lifetimes, the signing secret and throttling limits (from crm settings)."""

    secret_key: SecretStr
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    failure_window: timedelta = timedelta(minutes=15)
    max_failures_per_account: int = 5
    max_failures_per_address: int = 50
    # A session opened from an address within this long makes the account known there: the
    # per-address limit does not apply to it (module docstring).
    known_address_window: timedelta = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime
    user: User


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _invalid_credentials() -> DomainError:
    return DomainError(AuthErrorCode.INVALID_CREDENTIALS, "Email or password is wrong.")


async def _throttled(config: AuthConfig, email: str, address: str) -> bool:
    """Too many recent failures on the account, or from the address for an account not known
    there (see the module docstring)."""
    since = _now() - config.failure_window
    by_account = await LoginFailure.filter(email=email, occurred_at__gte=since).count()
    if by_account >= config.max_failures_per_account:
        return True
    by_address = await LoginFailure.filter(address=address, occurred_at__gte=since).count()
    if by_address < config.max_failures_per_address:
        return False
    return not await _known_at(config, email, address)


async def _known_at(config: AuthConfig, email: str, address: str) -> bool:
    """Has the account signed in successfully from `address` recently?"""
    user = await User.get_or_none(email=email)
    if user is None or not address:
        return False
    since = _now() - config.known_address_window
    return await Session.filter(user_id=user.id, address=address, created_at__gte=since).exists()


async def check_not_throttled(config: AuthConfig, email: str, address: str) -> None:
    """TOO_MANY_ATTEMPTS while the account or the address is locked (see the docstring)."""
    if await _throttled(config, email, address):
        raise DomainError(
            AuthErrorCode.TOO_MANY_ATTEMPTS,
            "Too many failed sign-ins; wait a few minutes and try again.",
        )


async def record_failure(email: str, address: str) -> None:
    """A wrong password given for `email` (a sign-in, or a password change)."""
    await LoginFailure.create(email=email, address=address[:64])


async def login(config: AuthConfig, email: str, password: str, address: str) -> Tokens:
    """Check the password and open a session; throttled per account and per client address."""
    email = email.strip().lower()[:254]
    await check_not_throttled(config, email, address)
    user = await User.get_or_none(email=email, is_active=True)
    if not verify_password(user.password_hash if user else None, password[:256]) or user is None:
        await record_failure(email, address)
        raise _invalid_credentials()
    actor = Actor(agency_id=user.agency_id, id=f"user:{user.id}", user_id=user.id)
    async with in_transaction() as conn:
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            await user.save(using_db=conn, update_fields=["password_hash"])
        session = await Session.create(
            agency_id=user.agency_id, user_id=user.id, address=address[:64], using_db=conn
        )
        refresh = await _new_refresh_token(config, session.id, conn)
        await record_audit(actor, "session", str(session.id), "login", {}, {}, conn)
    await LoginFailure.filter(email=email).delete()
    return _tokens(config, user, session.id, refresh)


async def refresh_session(config: AuthConfig, refresh_token: str) -> Tokens:
    """Trade a refresh token for new tokens; the old one is spent.

    A spent token that comes back means someone kept a copy: the session is ended for both
    holders (committed before the error is returned).
    """
    invalid = DomainError(AuthErrorCode.INVALID_TOKEN, "The refresh token is not valid.")
    async with in_transaction() as conn:
        stored = (
            await RefreshToken.filter(token_hash=_sha256(refresh_token))
            .using_db(conn)
            .select_for_update()
            .first()
        )
        session = (
            await Session.filter(id=stored.session_id, revoked_at__isnull=True)
            .using_db(conn)
            .first()
            if stored is not None and stored.expires_at > _now()
            else None
        )
        if stored is None or session is None:
            raise invalid
        user = await User.filter(id=session.user_id, is_active=True).using_db(conn).first()
        new_refresh = None
        if stored.used_at is not None or user is None:
            session.revoked_at = _now()
            await session.save(using_db=conn, update_fields=["revoked_at"])
            holder = Actor(agency_id=session.agency_id, id=f"user:{session.user_id}")
            await record_audit(holder, "session", str(session.id), "refresh_refused", {}, {}, conn)
        else:
            stored.used_at = _now()
            await stored.save(using_db=conn, update_fields=["used_at"])
            new_refresh = await _new_refresh_token(config, session.id, conn)
    if new_refresh is None or user is None:
        raise invalid
    return _tokens(config, user, session.id, new_refresh)


async def logout(actor: Actor) -> None:
    """End the actor's session: its refresh token and access tokens stop working now."""
    if actor.session_id is None:
        raise DomainError(AuthErrorCode.UNAUTHENTICATED, "Only a signed-in person can sign out.")
    async with in_transaction() as conn:
        await (
            Session.filter(id=actor.session_id, revoked_at__isnull=True)
            .using_db(conn)
            .update(revoked_at=_now())
        )
        await record_audit(actor, "session", str(actor.session_id), "logout", {}, {}, conn)


async def _new_refresh_token(config: AuthConfig, session_id: UUID, conn: BaseDBAsyncClient) -> str:
    token = secrets.token_urlsafe(32)
    await RefreshToken.create(
        session_id=session_id,
        token_hash=_sha256(token),
        expires_at=_now() + config.refresh_ttl,
        using_db=conn,
    )
    return token


def _tokens(config: AuthConfig, user: User, session_id: UUID, refresh: str) -> Tokens:
    now = _now()
    expires = now + config.access_ttl
    claims = {
        "sub": str(user.id),
        "agency": str(user.agency_id),
        "sid": str(session_id),
        "typ": "access",
        "iat": now,
        "exp": expires,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, config.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM)
    return Tokens(access_token=token, refresh_token=refresh, expires_at=expires, user=user)


def _unauthenticated(message: str) -> DomainError:
    return DomainError(AuthErrorCode.UNAUTHENTICATED, message)


async def actor_for_credentials(config: AuthConfig, credentials: str, request_id: str) -> Actor:
    """The actor behind `Bearer <access token>` or `Bearer crm_<api key>`, or UNAUTHENTICATED."""
    if credentials.startswith(API_KEY_PREFIX):
        return await _api_key_actor(credentials, request_id)
    try:
        claims = jwt.decode(
            credentials,
            config.secret_key.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "sub", "sid", "agency", "typ"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthenticated("The access token has expired; refresh it.") from exc
    except jwt.InvalidTokenError as exc:
        raise _unauthenticated("The access token is not valid.") from exc
    if claims["typ"] != "access":
        raise _unauthenticated("The access token is not valid.")
    try:
        user_id, session_id = UUID(claims["sub"]), UUID(claims["sid"])
    except ValueError as exc:
        raise _unauthenticated("The access token is not valid.") from exc
    signed_in = await _signed_in_user(session_id, user_id)
    if signed_in is None:
        raise _unauthenticated("The session has ended; sign in again.")
    roles, team = await _roles_and_team(signed_in)
    return Actor(
        agency_id=signed_in.agency_id,
        id=f"user:{user_id}",
        request_id=request_id,
        user_id=user_id,
        roles=roles,
        team=team,
        session_id=session_id,
    )


@dataclass(frozen=True, slots=True)
class _SignedInUser:
    id: UUID
    agency_id: UUID
    roles: list[str]
    org_unit_id: UUID | None


async def _signed_in_user(session_id: UUID, user_id: UUID) -> _SignedInUser | None:
    """The active user of an open session, read with one statement on every request.

    Nothing about it is cached: a signed-out session or a deactivated user is refused by the
    very next request, whichever API process serves it. It is one indexed lookup by primary
    keys returning a plain row (no model object); docs/benchmark.md says what caching it
    would and would not save.
    """
    open_session = Session.filter(id=session_id, user_id=user_id, revoked_at__isnull=True)
    rows = await (
        User.filter(id=user_id, is_active=True, id__in=Subquery(open_session.values("user_id")))
        .limit(1)
        .values("agency_id", "roles", "org_unit_id")
    )
    if not rows:
        return None
    row = rows[0]
    return _SignedInUser(
        id=user_id,
        agency_id=_as_uuid(row["agency_id"]),
        roles=list(row["roles"] or []),
        org_unit_id=None if row["org_unit_id"] is None else _as_uuid(row["org_unit_id"]),
    )


def _as_uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


async def _roles_and_team(user: _SignedInUser) -> tuple[frozenset[Role], frozenset[UUID]]:
    roles = frozenset(Role(r) for r in user.roles)
    if Role.SALES_HEAD not in roles:
        return roles, frozenset({user.id})
    return roles, await team_of(user.id, user.agency_id, user.org_unit_id)


async def _api_key_actor(key: str, request_id: str) -> Actor:
    invalid = _unauthenticated("The API key is not valid, has expired or was revoked.")
    parts = key.removeprefix(API_KEY_PREFIX).split("_", 1)
    if len(parts) != 2:
        raise invalid
    prefix, secret = parts
    stored = await ApiKey.get_or_none(prefix=prefix, revoked_at__isnull=True)
    if stored is None or not secrets.compare_digest(stored.key_hash, _sha256(secret)):
        raise invalid
    if stored.expires_at is not None and stored.expires_at <= _now():
        raise invalid
    await ApiKey.filter(id=stored.id).update(last_used_at=_now())
    return Actor(
        agency_id=stored.agency_id,
        id=f"api_key:{stored.id}",
        request_id=request_id,
        api_scopes=frozenset(ApiScope(s) for s in stored.scopes),
    )


async def current_actor(actor: Actor) -> Actor | None:
    """The actor as the database sees it now, or None once its access has ended.

    For connections that outlive a request (subscriptions): a revoked or expired API key, an
    ended session or a deactivated user ends them too, and role changes apply to them.
    """
    if actor.api_scopes is not None:
        try:
            key_id = UUID(actor.id.removeprefix("api_key:"))
        except ValueError:
            return None
        stored = await ApiKey.get_or_none(id=key_id, revoked_at__isnull=True)
        if stored is None or (stored.expires_at is not None and stored.expires_at <= _now()):
            return None
        return replace(actor, api_scopes=frozenset(ApiScope(s) for s in stored.scopes))
    if actor.user_id is None or actor.session_id is None:
        return actor  # the system acts for as long as it runs
    signed_in = await _signed_in_user(actor.session_id, actor.user_id)
    if signed_in is None:
        return None
    roles, team = await _roles_and_team(signed_in)
    return replace(actor, roles=roles, team=team)


def new_api_key_secret() -> tuple[str, str, str]:
    """A fresh key: (prefix, secret, the full key the integrator is shown once)."""
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return prefix, secret, f"{API_KEY_PREFIX}{prefix}_{secret}"


def api_key_hash(secret: str) -> str:
    return _sha256(secret)
