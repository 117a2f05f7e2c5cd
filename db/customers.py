"""Customers (companies the agency serves) and the contacts linked to them with a role."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from db.duplicates import DuplicateKeyed, customer_keys


class Customer(DuplicateKeyed):
    """A company the agency serves. The owner is its relationship manager."""

    SEARCH_FIELDS = ("name", "legal_name", "website", "billing_email")
    RECORD_TYPE = "customer"
    DUPLICATE_KEY_FIELDS = ("name", "website", "billing_email")

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=200)
    legal_name = fields.CharField(max_length=200, default="")
    website = fields.CharField(max_length=300, default="")
    industry = fields.CharField(max_length=100, default="")
    category = fields.CharField(max_length=50, default="")
    rating = fields.CharField(max_length=20, default="")
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    parent_id = fields.UUIDField(null=True, db_index=True)
    owner_id = fields.UUIDField(null=True, db_index=True)
    operations_user_id = fields.UUIDField(null=True)
    services: fields.Field[list[str]] = fields.JSONField(default=list)
    billing_email = fields.CharField(max_length=254, default="")
    billing_address = fields.TextField(default="")
    tax_id = fields.CharField(max_length=50, default="")
    currency = fields.CharField(max_length=3, default="")
    payment_terms_days = fields.IntField(null=True)
    # Parts of the customer billed on their own (`domain.customers.BillingUnit`), in order.
    billing_units: fields.Field[list[dict[str, Any]]] = fields.JSONField(
        default=list, db_default="[]"
    )
    status = fields.CharField(max_length=20, default="draft", db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    def duplicate_keys(self) -> list[str]:
        return customer_keys(self.name, self.website, self.billing_email)

    class Meta:
        table = "customer"
        indexes = (("agency_id", "created_at", "id"),)


class CustomerContact(Model):
    """A contact's role at a customer (primary, billing, technical...)."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    customer_id = fields.UUIDField(db_index=True)
    contact_id = fields.UUIDField(db_index=True)
    role = fields.CharField(max_length=50, default="")
    is_primary = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer_contact"
        unique_together = (("customer_id", "contact_id"),)
