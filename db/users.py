"""Employees of an agency who sign in: their roles, place in the organisation and password."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class User(Model):
    """An employee. Email is unique across the deployment: it is what a person signs in with."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200)
    password_hash = fields.CharField(max_length=200)
    roles: fields.Field[list[str]] = fields.JSONField(default=list)
    org_unit_id = fields.UUIDField(null=True, db_index=True)
    department_id = fields.UUIDField(null=True)
    designation_id = fields.UUIDField(null=True)
    manager_id = fields.UUIDField(null=True)
    is_active = fields.BooleanField(default=True)
    # E.164, or empty; set by the user on their own profile.
    phone = fields.CharField(max_length=40, default="", db_default="")
    # An image document on the user (`record_type` user): their picture.
    picture_document_id = fields.UUIDField(null=True)
    # An IANA zone name; null: the agency's.
    time_zone = fields.CharField(max_length=64, null=True)
    # Notification kind -> in_app, email, both or none; a kind left out goes in-app.
    notification_channels: fields.Field[dict[str, str]] = fields.JSONField(
        default=dict, db_default="{}"
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "crm_user"
