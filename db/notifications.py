"""Notifications left for users (by flows), read by the user they are for."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Notification(Model):
    """A message for one user about one record, with where it came from."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    user_id = fields.UUIDField()
    message = fields.TextField()
    kind = fields.CharField(max_length=30, default="flow", db_default="flow")
    record_type = fields.CharField(max_length=50, default="")
    record_id = fields.CharField(max_length=64, default="")
    source = fields.CharField(max_length=255, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        indexes = (("agency_id", "user_id", "created_at"),)
