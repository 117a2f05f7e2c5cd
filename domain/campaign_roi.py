"""A campaign's return: the contacts it brought in, their leads and won deals, and the won
amount against the campaign's cost.

Attribution is the campaign's own record (`CampaignAttribution`, one row per contact, written
by a sign-up). What follows from it is counted from the sales records as they are now: the
leads of attributed contacts opened since their attribution, and the won deals of those
contacts or of those leads (a deal keeps its lead's id when a lead is converted). A contact
who was already known when it signed up brings only what came after. Amounts are summed per
currency; the return on cost is computed in the cost's currency only (no exchange rates):
(won - cost) / cost.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from tortoise.expressions import Q

from db.campaigns import Campaign, CampaignAttribution
from db.deals import Deal
from db.leads import Lead

RATIO = Decimal("0.0001")


@dataclass(frozen=True)
class CampaignReturn:
    contacts: int
    leads: int
    won_deals: int
    won_amounts: dict[str, Decimal]  # currency ("" when none was given) -> won amount
    cost: Decimal | None
    currency: str | None
    # In the cost's currency: the won amount, and (won - cost) / cost when there is a cost.
    won_amount: Decimal | None
    return_on_cost: Decimal | None


def _since(attributed: dict[UUID, datetime], contact_id: UUID | None, moment: datetime) -> bool:
    return contact_id in attributed and moment >= attributed[contact_id]


async def campaign_returns(campaigns: Sequence[Campaign]) -> dict[UUID, CampaignReturn]:
    """Counts for campaigns the caller has checked the actor may see, in three queries
    whatever their number (a DataLoader batches a page of campaigns)."""
    if not campaigns:
        return {}
    agency_ids = {campaign.agency_id for campaign in campaigns}
    attributed: dict[UUID, dict[UUID, datetime]] = defaultdict(dict)
    for campaign_id, contact_id, created_at in await CampaignAttribution.filter(
        campaign_id__in=[c.id for c in campaigns]
    ).values_list("campaign_id", "contact_id", "created_at"):
        attributed[UUID(str(campaign_id))][UUID(str(contact_id))] = created_at
    contact_ids = list({c for contacts in attributed.values() for c in contacts})
    leads = await Lead.filter(
        agency_id__in=agency_ids, contact_id__in=contact_ids, deleted_at__isnull=True
    ).values_list("id", "contact_id", "created_at")
    won = await Deal.filter(
        Q(contact_id__in=contact_ids) | Q(lead_id__in=[lead_id for lead_id, _, _ in leads]),
        agency_id__in=agency_ids,
        status="won",
        deleted_at__isnull=True,
    ).values_list("contact_id", "lead_id", "created_at", "amount", "currency")
    return {
        campaign.id: _return(campaign, attributed[campaign.id], leads, won)
        for campaign in campaigns
    }


def _return(
    campaign: Campaign,
    attributed: dict[UUID, datetime],
    all_leads: list[tuple[Any, ...]],
    all_won: list[tuple[Any, ...]],
) -> CampaignReturn:
    leads = {
        lead_id
        for lead_id, contact_id, created_at in all_leads
        if _since(attributed, contact_id, created_at)
    }
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    deals = 0
    for contact_id, lead_id, created_at, amount, currency in all_won:
        if lead_id in leads or _since(attributed, contact_id, created_at):
            deals += 1
            amounts[currency or ""] += Decimal(amount)
    won_amount = return_on_cost = None
    if campaign.currency:
        won_amount = amounts.get(campaign.currency, Decimal("0.00"))
        if campaign.cost:
            ratio = (won_amount - campaign.cost) / campaign.cost
            return_on_cost = ratio.quantize(RATIO, rounding=ROUND_HALF_UP)
    return CampaignReturn(
        contacts=len(attributed),
        leads=len(leads),
        won_deals=deals,
        won_amounts=dict(sorted(amounts.items())),
        cost=campaign.cost,
        currency=campaign.currency,
        won_amount=won_amount,
        return_on_cost=return_on_cost,
    )
