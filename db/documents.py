"""Documents: files attached to a contact, a customer, a lead or a deal; the bytes live in a
storage."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Document(Model):
    """A file on a record. The storage key is chosen by the CRM, never taken from the file name."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    record_type = fields.CharField(max_length=50)
    record_id = fields.UUIDField()
    file_name = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=255)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    storage_key = fields.CharField(max_length=255, unique=True)
    uploaded_by = fields.CharField(max_length=100)  # the actor id, as in the audit log
    uploaded_by_user_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "document"
        indexes = (("record_type", "record_id", "created_at"),)
