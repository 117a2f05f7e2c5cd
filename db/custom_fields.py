"""Custom field definitions (per agency and record type) and the values records hold for them."""

from __future__ import annotations

from datetime import date

from tortoise import fields
from tortoise.models import Model


class CustomField(Model):
    """A typed field an admin added to one record type of one agency.

    The key is the field's name in the API, unique per agency and record type, and stays taken
    after the field is archived. choices lists the allowed values of choice and multi_choice
    fields. max_length bounds text values and min_value and max_value bound numbers.
    sort_column names the record table's sort-key column a sortable field's values are copied
    to (null: not sortable), sort_fill_after the last record id the backfill has reached,
    sort_keys_filled how many records it has filled, and sort_ready_at when every record's key
    was filled (from then on orderings by the field read the sort-key index).
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField()
    record_type = fields.CharField(max_length=20)
    key = fields.CharField(max_length=50)
    label = fields.CharField(max_length=100)
    type = fields.CharField(max_length=20)
    choices: fields.Field[list[str]] = fields.JSONField(default=list)
    required = fields.BooleanField(default=False)
    max_length = fields.IntField(null=True)
    min_value = fields.FloatField(null=True)
    max_value = fields.FloatField(null=True)
    position = fields.IntField(default=0)
    archived_at = fields.DatetimeField(null=True)
    sort_column = fields.CharField(max_length=20, null=True)
    sort_fill_after = fields.UUIDField(null=True)
    sort_keys_filled = fields.IntField(default=0, db_default=0)
    sort_ready_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "custom_field"
        # A sort-key column serves one field at a time (nulls, for unsortable fields, repeat).
        unique_together = (
            ("agency_id", "record_type", "key"),
            ("agency_id", "record_type", "sort_column"),
        )


class CustomFieldValue(Model):
    """One value of one custom field on one record, in the column of its type.

    Choices are stored in text_value, one row per chosen value for multi_choice fields, so
    every filter and sort is a plain indexed comparison on SQLite and PostgreSQL alike.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField()
    field_id = fields.UUIDField()
    record_type = fields.CharField(max_length=20)
    record_id = fields.UUIDField()
    text_value = fields.CharField(max_length=500, null=True)
    number_value = fields.FloatField(null=True)
    date_value: fields.Field[date | None] = fields.DateField(null=True)
    bool_value = fields.BooleanField(null=True)

    class Meta:
        table = "custom_field_value"
        indexes = (
            ("record_id", "field_id"),
            ("agency_id", "field_id", "text_value"),
            ("agency_id", "field_id", "number_value"),
            ("agency_id", "field_id", "date_value"),
            ("agency_id", "field_id", "bool_value"),
        )
