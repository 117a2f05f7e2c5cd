"""The agency's tag catalogue and the index of which record carries which tag."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Tag(Model):
    """A label shared by the whole agency. key is the lower-cased name: VIP and vip are one tag."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=50)
    key = fields.CharField(max_length=50)
    color = fields.CharField(max_length=7, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tag"
        unique_together = (("agency_id", "key"),)


class RecordTag(Model):
    """One tag on one record: what tag filters and tag usage counts read.

    The record keeps the tag names too (its tags column), for display and snapshots, and the
    tags service writes both in the same transaction.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField()
    tag_id = fields.UUIDField(db_index=True)
    record_type = fields.CharField(max_length=30)
    record_id = fields.UUIDField()

    class Meta:
        table = "record_tag"
        unique_together = (("tag_id", "record_type", "record_id"),)
        # With the tag id, a tag filter's check of one record reads the index alone.
        indexes = (("agency_id", "record_type", "record_id", "tag_id"),)
