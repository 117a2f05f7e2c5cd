"""Scheduled report deliveries: what to send to whom and when, and each run's outcome."""

from __future__ import annotations

from datetime import date

from tortoise import fields
from tortoise.models import Model


class ReportSchedule(Model):
    """A report (a dashboard export) mailed on a cadence, built with its owner's row scope.

    The cadence is a local time in `time_zone` on every day, one weekday or one day of the
    month. A Temporal Schedule (id `report-schedule-<id>`) starts each run, kept in step
    through the outbox. `status` is active or paused, and `paused_reason` says why when the
    CRM paused it itself (the owner was deactivated, or may no longer read the report).
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField()
    owner_id = fields.UUIDField()
    name = fields.CharField(max_length=100)
    report = fields.CharField(max_length=30)
    file_format = fields.CharField(max_length=10)
    # The report's filter: a period relative to the run, the bucket, team, owner, currency.
    period = fields.CharField(max_length=20)
    bucket = fields.CharField(max_length=10)
    team_id = fields.UUIDField(null=True)
    filter_owner_id = fields.UUIDField(null=True)
    currency = fields.CharField(max_length=3, null=True)
    recipient_ids: fields.Field[list[str]] = fields.JSONField(default=list)
    external_emails: fields.Field[list[str]] = fields.JSONField(default=list)
    frequency = fields.CharField(max_length=10)
    weekday = fields.IntField(null=True)  # 0 Monday to 6 Sunday, for weekly ones
    day_of_month = fields.IntField(null=True)  # 1 to 28, for monthly ones
    hour = fields.IntField()
    minute = fields.IntField()
    time_zone = fields.CharField(max_length=64)
    status = fields.CharField(max_length=10, default="active")
    paused_reason = fields.CharField(max_length=300, default="")
    last_run_at = fields.DatetimeField(null=True)
    last_run_status = fields.CharField(max_length=20, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "report_schedule"
        indexes = (("agency_id", "owner_id"),)


class ReportDelivery(Model):
    """One run of a schedule: the period it covered, the file, and what became of it.

    `run_key` names the run (the Temporal workflow and run id of that action), unique per schedule,
    so a retried activity finds the delivery, its attachment and its messages instead of
    building and sending them again.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    schedule_id = fields.UUIDField()
    run_key = fields.CharField(max_length=200)
    run_at = fields.DatetimeField()
    period_start: fields.Field[date | None] = fields.DateField(null=True)
    period_end: fields.Field[date | None] = fields.DateField(null=True)
    attachment_id = fields.BigIntField(null=True)
    # built, sent (every message sent), partly_sent, failed, stopped (nothing built)
    status = fields.CharField(max_length=20)
    reason = fields.CharField(max_length=300, default="")
    messages = fields.IntField(default=0)
    sent = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "report_delivery"
        unique_together = (("schedule_id", "run_key"),)
