"""Ticket assignment rules: which team's queue a new ticket goes to."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class TicketAssignmentRule(Model):
    """One rule of an agency's ordered list: a ticket matching its category, priority and
    customer rating (empty: any) goes to its team. The first matching rule wins."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    position = fields.IntField()
    category = fields.CharField(max_length=50, default="")
    priority = fields.CharField(max_length=10, default="")
    rating = fields.CharField(max_length=20, default="")
    team_id = fields.UUIDField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_assignment_rule"
        unique_together = (("agency_id", "position"),)
