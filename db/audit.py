"""The append-only audit table: who changed what, with before/after values."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    actor_id = fields.CharField(max_length=100)
    request_id = fields.CharField(max_length=64, default="")
    entity_type = fields.CharField(max_length=50)
    entity_id = fields.CharField(max_length=64)
    action = fields.CharField(max_length=50)
    before: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    after: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    occurred_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "audit_entry"
        indexes = (("entity_type", "entity_id"),)
