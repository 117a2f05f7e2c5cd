"""The ticket table: a customer's request to the support team."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from db.search import Searchable

# A priority's place in the queue, most pressing last: what `priority_rank` holds.
PRIORITY_RANKS = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


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
    # The priority as a number that sorts (urgent 3 to low 0), rewritten by `save`.
    priority_rank = fields.SmallIntField(default=1, db_default=1)
    category = fields.CharField(max_length=50, default="")
    assignee_id = fields.UUIDField(null=True, db_index=True)
    team_id = fields.UUIDField(null=True, db_index=True)
    status = fields.CharField(max_length=20, default="new", db_index=True)
    resolution_reason = fields.CharField(max_length=500, default="")
    first_response_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    # SLA: the policy version it opened under (null: none), its targets in business seconds
    # (null: no target), and the clocks' state (`domain.business_time.ClockState`): both
    # clocks run from creation and stand still while Pending or Resolved.
    # The satisfaction survey's answer (one per ticket), 1 to 5.
    satisfaction_score = fields.IntField(null=True)
    satisfaction_comment = fields.TextField(default="")
    rated_at = fields.DatetimeField(null=True)
    sla_policy_version = fields.IntField(null=True)
    sla_calendar: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    sla_warning_share = fields.FloatField(default=0.75)
    first_response_target = fields.IntField(null=True)
    resolution_target = fields.IntField(null=True)
    sla_paused_seconds = fields.FloatField(default=0.0)
    sla_paused_since = fields.DatetimeField(null=True)
    first_response_warned_at = fields.DatetimeField(null=True)
    first_response_breached_at = fields.DatetimeField(null=True)
    resolution_warned_at = fields.DatetimeField(null=True)
    resolution_breached_at = fields.DatetimeField(null=True)
    # The earlier ticket this one follows up (a customer's mail to a ticket closed for good).
    follows_ticket_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "ticket"
        indexes = (
            ("agency_id", "created_at", "id"),
            ("agency_id", "priority_rank", "created_at", "id"),
        )

    def refresh_priority_rank(self) -> None:
        """Recompute the rank from the priority (bulk inserts, which skip `save`)."""
        self.priority_rank = PRIORITY_RANKS.get(self.priority, 1)

    async def save(
        self,
        using_db: BaseDBAsyncClient | None = None,
        update_fields: Iterable[str] | None = None,
        force_create: bool = False,
        force_update: bool = False,
    ) -> None:
        """Keep the rank with the priority, as the search column is kept with its fields."""
        named = None if update_fields is None else list(update_fields)
        if named is None or "priority" in named:
            self.refresh_priority_rank()
            if named is not None:
                named.append("priority_rank")
        await super().save(using_db, named, force_create, force_update)


class TicketPortalReply(Model):
    """A contact's answer to a ticket, written in the customer portal (the agency's public
    replies are messages, `db.messages`)."""

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField()
    ticket_id = fields.UUIDField(db_index=True)
    contact_id = fields.UUIDField(null=True)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ticket_portal_reply"
