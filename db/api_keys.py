"""Integrators' API keys: shown once, stored as a hash, with scopes and an optional expiry."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ApiKey(Model):
    """The prefix is the public part of the key, for lookup and display. The hash is the
    SHA-256 of the secret part, which is random enough that a slow hash adds nothing."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=16, unique=True)
    key_hash = fields.CharField(max_length=64)
    scopes: fields.Field[list[str]] = fields.JSONField(default=list)
    expires_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=100)
    last_used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "api_key"
