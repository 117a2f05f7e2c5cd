"""The lead table."""

from __future__ import annotations

from decimal import Decimal

from tortoise import fields

from db.search import Searchable


class Lead(Searchable):
    """A sales opportunity not yet qualified. The status column is owned by the lead lifecycle.

    A lead is about a contact or (once customers exist) a customer. deal_id is the deal it
    was converted into.
    """

    SEARCH_FIELDS = ("title", "source")

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    title = fields.CharField(max_length=200)
    services: fields.Field[list[str]] = fields.JSONField(default=list)
    contact_id = fields.UUIDField(null=True, db_index=True)
    customer_id = fields.UUIDField(null=True, db_index=True)
    owner_id = fields.UUIDField(null=True)
    source = fields.CharField(max_length=50, default="")
    estimated_value: fields.Field[Decimal | None] = fields.DecimalField(
        max_digits=14, decimal_places=2, null=True
    )
    currency = fields.CharField(max_length=3, null=True)
    tags: fields.Field[list[str]] = fields.JSONField(default=list, db_default="[]")
    status = fields.CharField(max_length=20, default="new", db_index=True)
    deal_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "lead"
        indexes = (("agency_id", "created_at", "id"),)
