"""Broadcasts: one template to an audience (a saved filter), once or every year, and each
sending of one (a run) with its counts."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class Broadcast(Model):
    """What to send to whom and when. The audience is read when each run starts."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=200)
    template_key = fields.CharField(max_length=63)
    record_type = fields.CharField(max_length=20)
    # A contacts or customers filter, as their list queries take it.
    audience: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    time_zone = fields.CharField(max_length=64)
    # One-off: when. Yearly: the local time of day (and, on a fixed date, the day) it is sent.
    send_at = fields.DatetimeField()
    # "" (once), "yearly" (every year on send_at's local date) or "yearly_on_field".
    recurrence = fields.CharField(max_length=20, default="")
    # For yearly_on_field: the record's date that names the day (`created_at`, or a custom
    # field of type date as `custom_fields.<key>`).
    date_field = fields.CharField(max_length=80, default="")
    status = fields.CharField(max_length=20)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "broadcast"


class BroadcastRun(Model):
    """One sending: its occurrence (the local date it is for), progress and outcome."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    broadcast_id = fields.UUIDField(db_index=True)
    occurrence = fields.CharField(max_length=10)  # YYYY-MM-DD in the broadcast's time zone
    status = fields.CharField(max_length=20, default="sending")
    targeted = fields.IntField(default=0)
    sent = fields.IntField(default=0)
    failed = fields.IntField(default=0)
    skipped: fields.Field[dict[str, int]] = fields.JSONField(default=dict)
    # Where the next batch starts (the audience's keyset cursor): a restarted run resumes here.
    cursor = fields.CharField(max_length=200, default="")
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "broadcast_run"
        unique_together = (("broadcast_id", "occurrence"),)
