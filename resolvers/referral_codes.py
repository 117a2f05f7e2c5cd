"""Referral link resolvers: a user's or a contact's link for a referral campaign."""

from __future__ import annotations

from uuid import UUID

from domain.referral_codes import Referrer, ReferrerType, referral_link
from resolvers.context import RequestContext, actor_of


async def link_of(
    context: RequestContext, referrer_type: ReferrerType, referrer_id: UUID, campaign_code: str
) -> str | None:
    """The referrer (already shown to the caller) shares this link; None: no such campaign."""
    return await referral_link(
        actor_of(context),
        context.public_url,
        Referrer(referrer_type, referrer_id),
        campaign_code,
    )
