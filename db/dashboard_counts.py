"""Summary tables of the dashboards: counts per agency, owner, day and status, kept exact by
database triggers (`db/migrations/0040_dashboard_counts.py`).

A trigger adds a record's contribution to its key row and takes the old one off, by upserts
with increments (`INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`), in the same
transaction as the write: every write path (the domain services, bulk imports, merges, raw
updates) is counted, and two concurrent writes to one key wait on its row, never overwrite.
A record without an owner is counted under NO_OWNER (a unique key cannot hold a null).
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

# The owner key of records that have none: never a user, so no scoped viewer sees them.
NO_OWNER = UUID(int=0)


class ContactDayCount(Model):
    """The live (not deleted) contacts by agency, owner, UTC day of creation and status."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    owner_id = fields.UUIDField()
    day: fields.Field[date] = fields.DateField()
    status = fields.CharField(max_length=20)
    contacts = fields.BigIntField(default=0)

    class Meta:
        table = "contact_day_count"
        unique_together = (("agency_id", "owner_id", "day", "status"),)


class DealDayCount(Model):
    """The live deals by agency, owner, status, stage, currency, close reason and day.

    The day is the expected close date of an open deal and the UTC day a won or lost deal
    closed. Amounts are summed in cents and sales cycles (closed_at - created_at) in
    milliseconds: integers, so increments and decrements stay exact.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    owner_id = fields.UUIDField()
    status = fields.CharField(max_length=10)
    stage_id = fields.UUIDField()
    currency = fields.CharField(max_length=3)  # empty for none
    close_reason = fields.CharField(max_length=500)
    day: fields.Field[date] = fields.DateField()
    deals = fields.BigIntField(default=0)
    amount_cents = fields.BigIntField(default=0)
    cycle_ms = fields.BigIntField(default=0)

    class Meta:
        table = "deal_day_count"
        unique_together = (
            ("agency_id", "owner_id", "status", "stage_id", "currency", "close_reason", "day"),
        )


class TicketDayCount(Model):
    """The live tickets by agency, assignee, figure and day: one row per figure a ticket
    counts in, keyed by that figure's day (created, first response, resolved, rated, each
    breach); `open` (status new, open or pending, by status and priority) has no day and is
    kept on OPEN_DAY. `total` sums milliseconds (response and resolution times) or scores."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    assignee_id = fields.UUIDField()
    figure = fields.CharField(max_length=30)
    day: fields.Field[date] = fields.DateField()
    status = fields.CharField(max_length=20)  # empty but for `open`
    priority = fields.CharField(max_length=10)  # empty but for `open`
    tickets = fields.BigIntField(default=0)
    total = fields.BigIntField(default=0)

    class Meta:
        table = "ticket_day_count"
        unique_together = (("agency_id", "assignee_id", "figure", "day", "status", "priority"),)


OPEN_DAY = date(1970, 1, 1)
