"""Business calendars and SLA policies: what the service desk promises, and when it works."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class BusinessCalendarRow(Model):
    """An agency's working week (intervals of minutes per weekday, Monday first), its own
    holiday dates, and a country (ISO 3166, optional subdivision) whose public holidays close
    it too."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(unique=True)
    time_zone = fields.CharField(max_length=64, default="UTC")
    weekly_hours: fields.Field[list[Any]] = fields.JSONField(default=list)
    holidays: fields.Field[list[str]] = fields.JSONField(default=list)
    holiday_country = fields.CharField(max_length=2, default="")
    holiday_subdivision = fields.CharField(max_length=10, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "business_calendar"


class SlaPolicy(Model):
    """One published version of an agency's SLA policy. A new version never changes the
    tickets opened under an earlier one: each ticket keeps its version's targets.

    `targets` is a list of {priority, rating, first_response_minutes, resolution_minutes}
    (rating empty: any customer), in business minutes.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    version = fields.IntField()
    targets: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    warning_share = fields.FloatField(default=0.75)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sla_policy"
        unique_together = (("agency_id", "version"),)
