"""Visiting card scans: what the OCR read from a photographed card, until the user confirms
it as a contact."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class CardScan(Model):
    """A card photo read into draft contact fields. The photo is a document on the scan."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    owner_id = fields.UUIDField(null=True)  # who scanned it (row scope as on sales records)
    status = fields.CharField(max_length=20, default="draft")
    document_id = fields.UUIDField(null=True)
    # {"name": {"value": "...", "confidence": 0.93}, ...} for the fields the card showed.
    extracted: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    # The text lines as read, [{"text": "...", "confidence": 0.99}], to correct by.
    lines: fields.Field[list[dict[str, Any]]] = fields.JSONField(default=list)
    contact_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    confirmed_at = fields.DatetimeField(null=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "card_scan"
        indexes = (("agency_id", "created_at", "id"),)
