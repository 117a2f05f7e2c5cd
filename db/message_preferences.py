"""What each contact or customer agreed to receive, how they said so, and addresses that bounce."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class MessagePreference(Model):
    """One record's choices: the kinds of message it does not want and the channel it prefers.

    Absent kinds are received (no row at all: every kind, by email). Kept as opt-outs so that a
    kind added later is not silently refused to everyone.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    record_type = fields.CharField(max_length=50)
    record_id = fields.CharField(max_length=64)
    channel = fields.CharField(max_length=20, default="email")
    opted_out_kinds: fields.Field[list[str]] = fields.JSONField(default=list)
    # Labels the record follows (newsletters, product news); carried from the customer's
    # former `notification_subscriptions`.
    topics: fields.Field[list[str]] = fields.JSONField(default=list)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "message_preference"
        unique_together = (("agency_id", "record_type", "record_id"),)


class ConsentChange(Model):
    """One change of a record's consent: which kinds, in or out, when and through what."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    record_type = fields.CharField(max_length=50)
    record_id = fields.CharField(max_length=64)
    opted_in: fields.Field[list[str]] = fields.JSONField(default=list)
    opted_out: fields.Field[list[str]] = fields.JSONField(default=list)
    source = fields.CharField(max_length=20)
    # The message whose link or reply made the change, when there is one.
    message_id = fields.BigIntField(null=True)
    changed_by = fields.CharField(max_length=100)
    changed_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "consent_change"
        indexes = (("agency_id", "record_type", "record_id", "changed_at"),)


class UndeliverableAddress(Model):
    """An address the agency's mail server refused for good (a hard bounce): not sent to again."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    address = fields.CharField(max_length=254)
    reason = fields.CharField(max_length=500)
    bounced_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "undeliverable_address"
        unique_together = (("agency_id", "address"),)
