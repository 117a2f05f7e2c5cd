"""Referral codes: the short code each referrer (a user or a contact) shares, one per referrer."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ReferralCode(Model):
    """The code a referrer gives people (typed in a sign-up form, or in a shared link's `ref`).

    One per referrer, for every referral campaign of the agency: the link names the campaign.
    """

    id = fields.BigIntField(primary_key=True)
    agency_id = fields.UUIDField()
    code = fields.CharField(max_length=16)
    referrer_type = fields.CharField(max_length=10)
    referrer_id = fields.UUIDField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "referral_code"
        unique_together = (("agency_id", "code"), ("agency_id", "referrer_type", "referrer_id"))
