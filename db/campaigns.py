"""Campaigns: what an agency runs to bring people in (referral, promotion, greetings), who each
campaign brought in, and its counters per day."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Campaign(Model):
    """A campaign of one agency, named in links by its code (unique in the agency).

    The status column is owned by the campaign lifecycle. The period (starts_at, ends_at) moves
    it by Temporal timers. template_keys name the message templates it uses, audience is a
    saved contacts or customers filter (as a broadcast's), embed_origins the https origins
    whose pages may frame its widget. activity_notified holds the totals the owner was last
    told about (so activity notifications carry only what is new) and the last day summarised.
    """

    id = fields.UUIDField(primary_key=True)
    agency_id = fields.UUIDField(db_index=True)
    title = fields.CharField(max_length=200)
    code = fields.CharField(max_length=40)
    description = fields.TextField(default="")
    starts_at = fields.DatetimeField(null=True)
    ends_at = fields.DatetimeField(null=True)
    visibility = fields.CharField(max_length=20, default="private")
    campaign_type = fields.CharField(max_length=20)
    owner_id = fields.UUIDField(db_index=True)
    template_keys: fields.Field[list[str]] = fields.JSONField(default=list)
    cost: fields.Field[Decimal | None] = fields.DecimalField(
        max_digits=14, decimal_places=2, null=True
    )
    currency = fields.CharField(max_length=3, null=True)
    audience_type = fields.CharField(max_length=20, default="contact")
    audience: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    embed_origins: fields.Field[list[str]] = fields.JSONField(default=list)
    activity_notified: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharField(max_length=20, default="draft", db_index=True)
    created_by = fields.CharField(max_length=100)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "campaign"
        unique_together = (("agency_id", "code"),)
        indexes = (("agency_id", "created_at", "id"),)


class CampaignAttribution(Model):
    """A contact the campaign brought in, and who referred them (a user or a contact, or
    nobody): one row per contact per campaign, the first attribution wins."""

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    campaign_id = fields.UUIDField(db_index=True)
    contact_id = fields.UUIDField(db_index=True)
    referrer_user_id = fields.UUIDField(null=True)
    referrer_contact_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "campaign_attribution"
        unique_together = (("campaign_id", "contact_id"),)


class CampaignDailyCount(Model):
    """Views, likes and enrolments (sign-ups) of one campaign in one quarter hour (0 to 95) of
    one UTC day: a day's series sums its quarters, and an owner's local day (any time zone's
    offset is whole quarter hours) is summed exactly from the quarters it spans.

    Incremented by one upsert each (domain.campaign_counters), so the database adds and no
    increment is lost under concurrency.
    """

    id = fields.BigIntField(primary_key=True)
    campaign_id = fields.UUIDField()
    day = fields.DateField()
    quarter_hour = fields.SmallIntField(default=0)
    views = fields.BigIntField(default=0)
    likes = fields.BigIntField(default=0)
    enrolments = fields.BigIntField(default=0)

    class Meta:
        table = "campaign_daily_count"
        unique_together = (("campaign_id", "day", "quarter_hour"),)
