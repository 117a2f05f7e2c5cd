"""Likes of public campaigns, one per browser, so a like is counted once."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class CampaignLike(Model):
    """A browser (named by the random id of its cookie, hashed) liked a campaign."""

    id = fields.BigIntField(primary_key=True)
    campaign_id = fields.UUIDField()
    browser = fields.CharField(max_length=64)
    liked_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "campaign_like"
        unique_together = (("campaign_id", "browser"),)
