"""Notes: free text a user writes on a contact, a customer, a lead or a deal."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Note(Model):
    """A note on a contact or customer, read and changed under the row scope of that record."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    record_type = fields.CharField(max_length=50)
    record_id = fields.UUIDField()
    body = fields.TextField()
    author = fields.CharField(max_length=100)  # the actor id, as in the audit log
    author_user_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "note"
        # The timeline reads a record's notes newest first.
        indexes = (("record_type", "record_id", "created_at"),)
