"""Sales quotas: the won amount a sales person or a team is to reach in a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tortoise import fields
from tortoise.models import Model


class Quota(Model):
    """A target for one sales person (owner_id) or one team (team_id, an org unit and the
    units below it), over a period of days, both included.

    target_key is `user:<id>` or `team:<id>`, so one target per person or team and period is
    a plain unique constraint (the two nullable ids could not be). Attainment is not stored:
    it is counted from the won deals when read.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField()
    target_key = fields.CharField(max_length=60)
    owner_id = fields.UUIDField(null=True)
    team_id = fields.UUIDField(null=True)
    period_start: fields.Field[date] = fields.DateField()
    period_end: fields.Field[date] = fields.DateField()
    amount: fields.Field[Decimal] = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "quota"
        unique_together = (("agency_id", "target_key", "period_start", "period_end"),)
        indexes = (("agency_id", "period_start"),)
