"""Calling tasks: a call to make to a contact or customer, by an assignee, at a due time,
perhaps about a lead or a deal."""

from __future__ import annotations

from tortoise import fields

from db.search import Searchable


class CallingTask(Searchable):
    """The assignee owns the task (row scope follows the assignee)."""

    SEARCH_FIELDS = ("subject", "outcome_notes")

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    subject = fields.CharField(max_length=200)
    contact_id = fields.UUIDField(null=True, db_index=True)
    customer_id = fields.UUIDField(null=True, db_index=True)
    lead_id = fields.UUIDField(null=True, db_index=True)
    deal_id = fields.UUIDField(null=True, db_index=True)
    assignee_id = fields.UUIDField(null=True, db_index=True)
    due_at = fields.DatetimeField(null=True)
    notes = fields.TextField(default="", db_default="")
    outcome_notes = fields.TextField(default="")
    reschedule_count = fields.IntField(default=0)
    tags: fields.Field[list[str]] = fields.JSONField(default=list, db_default="[]")
    status = fields.CharField(max_length=20, default="new", db_index=True)
    # The support ticket it is part of (null: none).
    ticket_id = fields.UUIDField(null=True, db_index=True)
    # Made by a pipeline stage's activity for its deal: the stage, and whether the deal may
    # leave it while this task is open.
    stage_id = fields.UUIDField(null=True)
    required = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "calling_task"
        indexes = (("agency_id", "created_at", "id"),)
