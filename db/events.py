"""The domain event log: written in the same transaction as the change; its id is the cursor."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Event(Model):
    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    type = fields.CharField(max_length=80)
    aggregate_type = fields.CharField(max_length=50)
    aggregate_id = fields.CharField(max_length=64)
    payload: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    occurred_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "event"
        # (agency_id, id): subscriptions read one agency's events after a cursor.
        indexes = (("aggregate_type", "aggregate_id"), ("agency_id", "id"))
