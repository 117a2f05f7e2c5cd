"""The deal (opportunity) table."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tortoise import fields

from db.pipelines import Pipeline, Stage
from db.search import Searchable


class Deal(Searchable):
    """An opportunity in a pipeline. The status column is owned by the deal lifecycle.

    The stage says where the deal is and how likely it is to be won. The status (open, won,
    lost) always equals the kind of that stage. close_reason says why it was won or lost,
    lost_to to which competitor a lost deal went.
    """

    SEARCH_FIELDS = ("name",)

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=200)
    pipeline: fields.ForeignKeyRelation[Pipeline] = fields.ForeignKeyField(
        "crm.Pipeline", related_name="deals", on_delete=fields.RESTRICT
    )
    stage: fields.ForeignKeyRelation[Stage] = fields.ForeignKeyField(
        "crm.Stage", related_name="deals", on_delete=fields.RESTRICT
    )
    status = fields.CharField(max_length=10, default="open", db_index=True)
    amount: fields.Field[Decimal] = fields.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0)
    )
    currency = fields.CharField(max_length=3, null=True)
    expected_close_date: fields.Field[date] = fields.DateField()
    competitors: fields.Field[list[str]] = fields.JSONField(default=list)
    close_reason = fields.CharField(max_length=500, default="")
    # The competitor a lost deal went to, when known (one of its competitors).
    lost_to = fields.CharField(max_length=100, default="", db_default="")
    closed_at = fields.DatetimeField(null=True)
    tags: fields.Field[list[str]] = fields.JSONField(default=list, db_default="[]")
    owner_id = fields.UUIDField(null=True)
    lead_id = fields.UUIDField(null=True, db_index=True)
    contact_id = fields.UUIDField(null=True, db_index=True)
    customer_id = fields.UUIDField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    pipeline_id: Any
    stage_id: Any

    class Meta:
        table = "deal"
        indexes = (
            ("agency_id", "created_at", "id"),
            ("agency_id", "expected_close_date", "id"),
            # Dashboards: the pipeline by expected close date, won and lost by closing day.
            ("agency_id", "status", "expected_close_date"),
            ("agency_id", "status", "closed_at"),
        )
