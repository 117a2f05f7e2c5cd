"""API keys for integrators: created by an admin, shown once, stored hashed, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID

from tortoise.transactions import in_transaction

from db.api_keys import ApiKey as ApiKey
from domain.actors import Actor, ApiScope
from domain.audit import record_audit
from domain.auth import api_key_hash, new_api_key_secret
from domain.errors import DomainError
from domain.events import append_event
from domain.policies import forbidden, require, rows
from domain.record_changes import record_created
from domain.roles import Access, Resource, RowScope

AGGREGATE = "api_key"
MAX_NAME = 200
MAX_KEYS_PER_AGENCY = 100


class ApiKeyErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    INVALID = "INVALID"
    FORBIDDEN = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class NewApiKey:
    api_key: ApiKey
    secret: str  # the whole key, shown to the admin once and never stored


def _require_admin(actor: Actor) -> None:
    if require(actor, Resource.API_KEYS, Access.WRITE) is not RowScope.AGENCY:
        raise forbidden(Resource.API_KEYS, Access.WRITE)


async def create_api_key(
    actor: Actor, name: str, scopes: list[ApiScope], expires_at: datetime | None
) -> NewApiKey:
    _require_admin(actor)
    name = name.strip()
    if not name:
        raise DomainError(ApiKeyErrorCode.REQUIRED, "A name is required.", "name")
    if len(name) > MAX_NAME:
        raise DomainError(ApiKeyErrorCode.TOO_LONG, f"At most {MAX_NAME} characters.", "name")
    if not scopes:
        raise DomainError(ApiKeyErrorCode.REQUIRED, "Give the key at least one scope.", "scopes")
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise DomainError(ApiKeyErrorCode.INVALID, "The expiry is in the past.", "expiresAt")
    active = ApiKey.filter(agency_id=actor.agency_id, revoked_at__isnull=True)
    if await active.count() >= MAX_KEYS_PER_AGENCY:
        raise DomainError(ApiKeyErrorCode.TOO_MANY, "Revoke unused keys first.")
    prefix, secret, whole = new_api_key_secret()
    async with in_transaction() as conn:
        key = await ApiKey.create(
            agency_id=actor.agency_id,
            name=name,
            prefix=prefix,
            key_hash=api_key_hash(secret),
            scopes=sorted({s.value for s in scopes}),
            expires_at=expires_at,
            created_by=actor.id,
            using_db=conn,
        )
        after = {"name": name, "scopes": key.scopes, "prefix": prefix}
        await record_created(actor, AGGREGATE, str(key.id), after, conn)
    return NewApiKey(api_key=key, secret=whole)


async def revoke_api_key(actor: Actor, key_id: UUID) -> ApiKey:
    _require_admin(actor)
    async with in_transaction() as conn:
        key = await ApiKey.filter(id=key_id, agency_id=actor.agency_id).using_db(conn).first()
        if key is None or key.revoked_at is not None:
            raise DomainError(ApiKeyErrorCode.NOT_FOUND, f"No active API key {key_id}.", "id")
        key.revoked_at = datetime.now(UTC)
        await key.save(using_db=conn, update_fields=["revoked_at"])
        await record_audit(actor, AGGREGATE, str(key.id), "revoke", {}, {}, conn)
        await append_event(actor, "api_key.revoked", AGGREGATE, str(key.id), {}, conn)
    return key


async def list_api_keys(actor: Actor) -> list[ApiKey]:
    query = ApiKey.filter(rows(actor, Resource.API_KEYS, Access.READ, "id"))
    return await query.order_by("-created_at")
