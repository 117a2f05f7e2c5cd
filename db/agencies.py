"""Agencies (tenants) and their structure: organisation units, departments, designations."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Agency(Model):
    """A sales or support organisation. Every other row carries its id.

    Its profile is the sender of every message: name and postal address (email footers), web
    site, and the time zone and locale its people and messages default to.
    """

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=60, unique=True)
    kind = fields.CharField(
        max_length=20, default="sales_and_support", db_default="sales_and_support"
    )
    street = fields.CharField(max_length=200, default="", db_default="")
    city = fields.CharField(max_length=100, default="", db_default="")
    region = fields.CharField(max_length=100, default="", db_default="")
    postal_code = fields.CharField(max_length=20, default="", db_default="")
    country = fields.CharField(max_length=2, default="", db_default="")
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    website = fields.CharField(max_length=500, default="", db_default="")
    time_zone = fields.CharField(max_length=64, default="UTC", db_default="UTC")
    locale = fields.CharField(max_length=35, default="en", db_default="en")
    # An image document uploaded to the agency; shown at the top of its emails.
    logo_document_id = fields.UUIDField(null=True)
    # Who owns a lead the CRM makes from mail of an unknown sender: `role:<role>` (the least
    # busy active user with it, as a flow's `role:` step) or a user's id.
    lead_assignee = fields.CharField(
        max_length=80, default="role:sales_person", db_default="role:sales_person"
    )
    # Days a resolved ticket may be reopened; after them a timer closes it for good.
    ticket_reopen_days = fields.IntField(default=7, db_default=7)
    # Whether mail to support@ from a sender opens a ticket (else it is only on timelines).
    tickets_from_mail = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "agency"


class OrgUnit(Model):
    """A node of the agency's organisation tree. A Sales Head sees the unit and all below it.

    `path` holds the ids from the root down to this unit (`/<root>/<child>/`), so a subtree is
    one prefix query.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=200)
    parent_id = fields.UUIDField(null=True)
    path = fields.CharField(max_length=1000, db_index=True)
    # The agent the unit's ticket queue gave the last ticket to (round-robin goes on from
    # them); the unit's row is locked while a ticket is assigned.
    last_ticket_assignee_id = fields.UUIDField(null=True)
    # The same for the unit's sales people and new contacts and leads (domain.round_robin).
    last_lead_assignee_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "org_unit"


class Department(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "department"
        unique_together = (("agency_id", "name"),)


class Designation(Model):
    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "designation"
        unique_together = (("agency_id", "name"),)
