"""Mail received by the CRM: the raw message as it arrived, what it said, where it went."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class InboundEmail(Model):
    """One received message of one agency, stored before anything reads it.

    The raw bytes are in the document storage (`storage_key`); the row is written with them,
    then a workflow parses and routes the message and fills in the rest. The Message-ID
    (or, without one, a digest of the bytes) is unique per agency, so a message delivered
    twice, or fetched again from a mailbox, is processed once.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField()
    # sales, support or reply (a reply+ address); a connected mailbox's purpose (sales or
    # support) for mail fetched from it
    mailbox = fields.CharField(max_length=20)
    email_account_id = fields.UUIDField(null=True)
    message_id = fields.CharField(max_length=255)
    envelope_from = fields.CharField(max_length=320, default="")
    recipients: fields.Field[list[str]] = fields.JSONField(default=list)
    from_address = fields.CharField(max_length=320, default="")
    from_name = fields.CharField(max_length=200, default="")
    subject = fields.CharField(max_length=255, default="")
    storage_key = fields.CharField(max_length=255)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    authentication_results = fields.TextField(default="")
    # received -> processed (or failed: kept with the reason, for an operator to look at)
    status = fields.CharField(max_length=20, default="received")
    # What it was: reply, message (from a known person), new_lead, auto_reply, bounce,
    # unmatched (an unknown sender to a support address).
    outcome = fields.CharField(max_length=20, default="")
    reason = fields.CharField(max_length=500, default="")
    text_body = fields.TextField(default="")
    # The new text of a reply: the quoted history and the signature taken off.
    reply_text = fields.TextField(default="")
    contact_id = fields.UUIDField(null=True)
    lead_id = fields.UUIDField(null=True)
    # The CRM's message this one answers (by its reply+ address or its In-Reply-To).
    reply_to_message_id = fields.BigIntField(null=True)
    received_at = fields.DatetimeField(auto_now_add=True)
    processed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inbound_email"
        unique_together = (("agency_id", "message_id"),)


class InboundEmailLink(Model):
    """A received message on one record's timeline: its contact, and the contact's customers,
    open leads and open deals."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    inbound_email: fields.ForeignKeyRelation[InboundEmail] = fields.ForeignKeyField(
        "crm.InboundEmail", related_name="links", on_delete=fields.CASCADE
    )
    record_type = fields.CharField(max_length=50)
    record_id = fields.CharField(max_length=64)
    received_at = fields.DatetimeField()

    class Meta:
        table = "inbound_email_link"
        unique_together = (("inbound_email_id", "record_type", "record_id"),)
        indexes = (("agency_id", "record_type", "record_id", "received_at"),)
