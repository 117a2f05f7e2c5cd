"""Imports: a CSV or XLSX file of records, its confirmed mapping and progress, and the rows
it could not import."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class RecordImport(Model):
    """One uploaded file and its run. `next_row` moves with each committed batch, in the
    batch's transaction, so a restarted run resumes after the last batch it committed."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    created_by = fields.CharField(max_length=100)
    owner_id = fields.UUIDField(null=True)  # the person who uploaded (imported records' owner)
    # Who the run acts as (id, roles, team, API scopes), as the upload saw it.
    actor: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    record_type = fields.CharField(max_length=20)
    file_name = fields.CharField(max_length=255)
    file_format = fields.CharField(max_length=10)  # csv or xlsx
    storage_key = fields.CharField(max_length=200)
    size = fields.BigIntField()
    columns: fields.Field[list[str]] = fields.JSONField(default=list)
    # Confirmed mapping: column name to field name (`custom:<key>` for a custom field).
    mapping: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    duplicate_policy = fields.CharField(max_length=20, default="skip")
    # Whether the imported records start the flows their events trigger (contact.created...).
    start_flows = fields.BooleanField(default=True, db_default=True)
    status = fields.CharField(max_length=20, default="uploaded", db_index=True)
    total_rows = fields.IntField(default=0)
    next_row = fields.IntField(default=1)  # the first data row not yet committed (1-based)
    created = fields.IntField(default=0)
    updated = fields.IntField(default=0)
    skipped = fields.IntField(default=0)
    failed = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "record_import"


class ImportRowError(Model):
    """Why a row (or one of its cells) could not be imported."""

    id = fields.BigIntField(primary_key=True)
    import_id = fields.UUIDField()
    row_number = fields.IntField()
    column = fields.CharField(max_length=255, default="")
    message = fields.CharField(max_length=500)

    class Meta:
        table = "import_row_error"
        indexes = (("import_id", "row_number"),)
