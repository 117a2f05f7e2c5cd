"""Messages to contacts and customers: what was said, by whom, and whether it was sent."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Message(Model):
    """One message to one record's addresses, kept as rendered: the proof of what was sent.

    It is written `queued` before anything is sent; the delivery then moves it to `sent`,
    `skipped` (consent, with the reason) or `failed` (the server refused it for good). The
    idempotency key makes a retried step or a re-sent batch find the row instead of adding one.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    record_type = fields.CharField(max_length=50)
    record_id = fields.CharField(max_length=64)
    channel = fields.CharField(max_length=20, default="email")
    kind = fields.CharField(max_length=20)
    template_key = fields.CharField(max_length=63, default="")
    template_version = fields.IntField(null=True)
    recipients: fields.Field[list[str]] = fields.JSONField(default=list)
    # Whether the recipients are the record's own addresses (its consent applies) or fixed ones.
    to_record = fields.BooleanField(default=True)
    subject = fields.CharField(max_length=255)
    text_body = fields.TextField()
    html_body = fields.TextField(default="")
    # An iCalendar object sent with it (a meeting invitation), and its METHOD (REQUEST, CANCEL).
    calendar = fields.TextField(default="", db_default="")
    calendar_method = fields.CharField(max_length=20, default="", db_default="")
    # A signed link the delivery adds (`<purpose>:<subject id>`, e.g. `booking:<meeting id>`):
    # signed at send time, so the message row never holds a credential.
    page_link = fields.CharField(max_length=100, default="", db_default="")
    # A file sent with it (a scheduled report), shared by the messages of one delivery.
    attachment_id = fields.BigIntField(null=True)
    status = fields.CharField(max_length=20, default="queued")
    reason = fields.CharField(max_length=500, default="")
    idempotency_key = fields.CharField(max_length=255, unique=True)
    message_id = fields.CharField(max_length=255, default="")
    # Who asked: flow:<key>, user:<id>, broadcast:<id>:<occurrence>.
    source = fields.CharField(max_length=255, default="")
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "message"
        indexes = (
            ("agency_id", "record_type", "record_id", "created_at"),
            # A broadcast run's counts are read by its source.
            ("agency_id", "source", "status"),
            # Dashboards: emails sent in a period.
            ("agency_id", "status", "sent_at"),
        )


class MessageAttachment(Model):
    """A file sent with messages, kept as sent (the proof of what was attached): the messages
    of one report delivery share one row."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    file_name = fields.CharField(max_length=200)
    content_type = fields.CharField(max_length=100)
    content = fields.BinaryField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "message_attachment"
