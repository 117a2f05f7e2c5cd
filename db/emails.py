"""Outgoing emails already handed to SMTP, keyed so a retried activity never sends twice."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SentEmail(Model):
    id = fields.BigIntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=255, unique=True)
    recipients: fields.Field[list[str]] = fields.JSONField(default=list)
    subject = fields.CharField(max_length=255)
    message_id = fields.CharField(max_length=255)
    sent_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sent_email"
