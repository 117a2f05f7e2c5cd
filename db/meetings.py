"""Meetings: a sales person proposes time slots to a contact, the contact books one."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Meeting(Model):
    """A meeting with a contact, perhaps about a lead, a deal or a calling task.

    The owner (the sales person who proposed it) owns it: row scope follows the owner. The
    status column is owned by the meeting lifecycle. `starts_at` and `ends_at` are the booked
    slot's (null while proposed). `sequence` counts the invitation's revisions (RFC 5545
    SEQUENCE): a reschedule or a cancellation sends the invitation again, one higher.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    owner_id = fields.UUIDField(null=True, db_index=True)
    contact_id = fields.UUIDField(db_index=True)
    lead_id = fields.UUIDField(null=True, db_index=True)
    deal_id = fields.UUIDField(null=True, db_index=True)
    calling_task_id = fields.UUIDField(null=True, db_index=True)
    title = fields.CharField(max_length=200)
    location = fields.CharField(max_length=500, default="")
    duration_minutes = fields.IntField()
    template_key = fields.CharField(max_length=63, default="")
    time_zone = fields.CharField(max_length=64, default="UTC")
    starts_at = fields.DatetimeField(null=True)
    ends_at = fields.DatetimeField(null=True)
    sequence = fields.IntField(default=0)
    status = fields.CharField(max_length=20, default="proposed", db_index=True)
    # The support ticket it is part of (null: none).
    ticket_id = fields.UUIDField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "meeting"
        indexes = (("agency_id", "created_at", "id"), ("owner_id", "status", "starts_at"))


class MeetingSlot(Model):
    """One time the owner offered, which the contact may pick."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    meeting_id = fields.UUIDField(db_index=True)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()

    class Meta:
        table = "meeting_slot"
