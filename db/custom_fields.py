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
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "custom_field"
        unique_together = (("agency_id", "record_type", "key"),)


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
