"""The transactional outbox: work for Temporal, written in the same transaction as its cause."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxMessage(Model):
    """Start a flow run or signal one. The relay delivers pending rows in id order.

    A failed delivery stays pending with its attempts counted and its next attempt pushed back.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    kind = fields.CharField(max_length=20)
    workflow_id = fields.CharField(max_length=255)
    payload: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharField(max_length=20, default="pending")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (("status", "next_attempt_at"),)
