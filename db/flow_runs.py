"""Runs of flows on records, and the effects their steps already had (for idempotent retries)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class FlowRun(Model):
    """One run of one flow version on one record, as far as the database knows it.

    Written as pending in the transaction whose event triggered it, then kept up to date by
    the run itself (status, current step, next wake-up, last error). The listens_to column holds the
    event types the run waits for, so only those are delivered to it as signals.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    workflow_id = fields.CharField(max_length=255, unique=True)
    flow_key = fields.CharField(max_length=63)
    version = fields.IntField()
    record_type = fields.CharField(max_length=50)
    record_id = fields.CharField(max_length=64)
    trigger_event_id = fields.BigIntField(null=True)
    status = fields.CharField(max_length=20)
    current_step = fields.CharField(max_length=63, null=True)
    next_wake_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="")
    # A stopped run's stop_when condition (`replied`, ...); empty for every other run.
    stop_reason = fields.CharField(max_length=30, default="", db_default="")
    listens_to: fields.Field[list[str]] = fields.JSONField(default=list)
    progress_seq = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "flow_run"
        indexes = (("record_type", "record_id"), ("agency_id", "flow_key", "status"))


class FlowStepEffect(Model):
    """A change a flow step made, keyed by workflow run and activity.

    Written in the same transaction as the change, so a retried activity finds it and does
    not make the change twice.
    """

    id = fields.BigIntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=255, unique=True)
    workflow_id = fields.CharField(max_length=255)
    kind = fields.CharField(max_length=30)
    result: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "flow_step_effect"
