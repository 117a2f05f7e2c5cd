"""The ticket table: a customer's request to the support team."""

from __future__ import annotations

from tortoise import fields

from db.search import Searchable


class Ticket(Searchable):
    """A support request from a contact (perhaps of a customer), worked by an assignee of a
    team (an org unit). The status column is owned by the ticket lifecycle.

    `resolution_reason` is why it was resolved without a public reply. `first_response_at` is
    the first public reply, `resolved_at` the last resolution (the reopen window runs from
    it), `closed_at` when it closed for good.
    """

    SEARCH_FIELDS = ("subject", "category")

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    customer_id = fields.UUIDField(null=True, db_index=True)
    contact_id = fields.UUIDField(null=True, db_index=True)
    subject = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    channel = fields.CharField(max_length=10, default="api")
    priority = fields.CharField(max_length=10, default="normal", db_index=True)
    category = fields.CharField(max_length=50, default="")
    assignee_id = fields.UUIDField(null=True, db_index=True)
    team_id = fields.UUIDField(null=True, db_index=True)
    status = fields.CharField(max_length=20, default="new", db_index=True)
    resolution_reason = fields.CharField(max_length=500, default="")
    first_response_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ticket"
        indexes = (("agency_id", "created_at", "id"),)
