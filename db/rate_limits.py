"""Rate-limit counters kept in the database, so every API process counts the same requests."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class RateCounter(Model):
    """Requests (or cost) one subject spent in one fixed window of one limit.

    The key names the limit, the subject and the window's index, so a new window is a new
    row and an old one only waits to be swept.
    """

    key = fields.CharField(max_length=255, primary_key=True)
    spent = fields.BigIntField(default=0)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "rate_counter"
