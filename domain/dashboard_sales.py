"""More sales figures for the dashboards: won and lost deals by competitor, leads and won
deals by campaign, and the emails among a sales person's activities.

Each counts the records the viewer may read, narrowed by the dashboard filter, with the same
scope helpers as `domain.dashboards`.

- Competitors are the names on the deal (`Deal.competitors`, a JSON list): a closed deal counts
  once for each competitor it names, unpacked in SQL (`json_each` on SQLite,
  `jsonb_array_elements_text` on PostgreSQL) over the scoped deals; a lost deal also for the
  one it went to (`Deal.lost_to`, given when it is lost, always among its competitors).
- Campaigns attribute as `domain.campaign_roi` does: a lead whose contact a campaign brought
  in (signed up through it) before the lead came in, and a deal won from such a lead or for
  such a contact after it signed up. Only the attributed leads and deals are read, then
  matched to their campaigns here (a contact may have come through several).
- Emails: messages sent (status sent, by their sending time) to contacts and customers of the
  people counted, whoever sent them (the person, or a flow for their record); broadcasts are
  mailings to an audience, not a person's activity, and are left out.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from tortoise.expressions import Q, RawSQL, Subquery
from tortoise.functions import Count, Sum

from db.campaigns import Campaign, CampaignAttribution
from db.contacts import Contact
from db.customers import Customer
from db.deals import Deal
from db.leads import Lead
from db.messages import Message
from domain.actors import Actor
from domain.dashboards import (
    CENT,
    ZERO,
    DashboardFilter,
    Figure,
    Point,
    _by_bucket,
    _deals,
    _is_postgres,
    _money,
    _owners,
)

BROADCAST_SOURCE = "broadcast:"


@dataclass(frozen=True)
class CompetitorFigure:
    competitor: str
    won_deals: int  # deals won in the period that named this competitor
    won_amount: Decimal
    lost_deals: int  # deals lost in the period that named this competitor
    lost_amount: Decimal
    lost_to_deals: int  # of those, the deals it took (the lost deal's `lost_to`)
    lost_to_amount: Decimal


@dataclass(frozen=True)
class CampaignSource:
    campaign_id: UUID
    campaign_title: str
    leads: int  # leads that came in in the period through the campaign
    converted: int  # of those, how many are converted
    won_deals: int  # deals won in the period through the campaign (whenever the lead came)
    won_amount: Decimal


async def _raw(query: Any, around: str) -> list[dict[str, Any]]:
    """`around` with `{scoped}` replaced by the query's SQL (its parameters kept as such): for
    what the ORM cannot say, over exactly the rows it selects."""
    query._choose_db_if_not_chosen()
    query._make_query()
    inner, params = query.query.get_parameterized_sql()
    rows: list[dict[str, Any]] = await query._db.execute_query_dict(
        around.format(scoped=inner), params
    )
    return rows


async def won_and_lost_by_competitor(
    actor: Actor, period: DashboardFilter
) -> list[CompetitorFigure]:
    closed = Deal.filter(
        await _deals(actor, period),
        status__in=["won", "lost"],
        closed_at__gte=period.since,
        closed_at__lt=period.until,
    ).values("id")
    names = (
        "jsonb_array_elements_text(d.competitors) AS c(value)"
        if _is_postgres(Deal)
        else "json_each(d.competitors) AS c"
    )
    lost_to = (
        Deal.filter(await _deals(actor, period), status="lost")
        .filter(closed_at__gte=period.since, closed_at__lt=period.until)
        .exclude(lost_to="")
        .annotate(n=Count("id"), amount_sum=Sum("amount"))
        .group_by("lost_to")
        .values("lost_to", "n", "amount_sum")
    )
    rows = await _raw(
        closed,
        "SELECT d.status AS status, c.value AS competitor, COUNT(*) AS n, "
        f"SUM(d.amount) AS amount_sum FROM deal d CROSS JOIN {names} "
        "WHERE d.id IN ({scoped}) GROUP BY d.status, c.value",
    )
    found: dict[str, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for row in rows:
        found[str(row["competitor"])][row["status"]] = (row["n"], _money(row["amount_sum"]))
    for row in await lost_to:
        found[row["lost_to"]]["lost_to"] = (row["n"], _money(row["amount_sum"]))
    none = (0, ZERO.quantize(CENT))
    figures = [
        CompetitorFigure(
            name,
            *by_status.get("won", none),
            *by_status.get("lost", none),
            *by_status.get("lost_to", none),
        )
        for name, by_status in found.items()
    ]
    figures.sort(key=lambda f: (-(f.won_deals + f.lost_deals), f.competitor))
    return figures


def _attributed(
    attributions: dict[UUID, list[tuple[UUID, datetime]]], contact_id: Any, moment: datetime
) -> set[UUID]:
    """The campaigns that brought the contact in at or before `moment`."""
    if contact_id is None:
        return set()
    return {
        campaign
        for campaign, since in attributions.get(UUID(str(contact_id)), [])
        if moment >= since
    }


async def leads_by_campaign(actor: Actor, period: DashboardFilter) -> list[CampaignSource]:
    agency = Q(agency_id=actor.agency_id)
    brought = Subquery(CampaignAttribution.filter(agency).values("contact_id"))
    leads_query = Lead.filter(
        await _owners(actor, period),
        created_at__gte=period.since,
        created_at__lt=period.until,
        contact_id__in=brought,
    ).values("id", "contact_id", "created_at", "status")
    won_query = (
        Deal.filter(
            await _deals(actor, period),
            status="won",
            closed_at__gte=period.since,
            closed_at__lt=period.until,
        )
        .filter(
            Q(contact_id__in=brought)
            | Q(
                lead_id__in=Subquery(
                    Lead.filter(agency, deleted_at__isnull=True, contact_id__in=brought).values(
                        "id"
                    )
                )
            )
        )
        .values("id", "contact_id", "lead_id", "created_at", "amount")
    )
    leads, won = await asyncio.gather(leads_query, won_query)
    won_leads = {
        row["id"]: row
        for row in await Lead.filter(
            agency,
            deleted_at__isnull=True,
            id__in=[deal["lead_id"] for deal in won if deal["lead_id"]],
        ).values("id", "contact_id", "created_at")
    }
    contacts = {
        row["contact_id"] for row in [*leads, *won, *won_leads.values()] if row["contact_id"]
    }
    attributions: dict[UUID, list[tuple[UUID, datetime]]] = defaultdict(list)
    for campaign_id, contact_id, since in await CampaignAttribution.filter(
        agency, contact_id__in=list(contacts)
    ).values_list("campaign_id", "contact_id", "created_at"):
        attributions[UUID(str(contact_id))].append((UUID(str(campaign_id)), since))
    counts: dict[UUID, list[Any]] = defaultdict(lambda: [0, 0, 0, ZERO])
    for lead in leads:
        for campaign in _attributed(attributions, lead["contact_id"], lead["created_at"]):
            counts[campaign][0] += 1
            counts[campaign][1] += lead["status"] == "converted"
    for deal in won:
        campaigns = _attributed(attributions, deal["contact_id"], deal["created_at"])
        origin = won_leads.get(deal["lead_id"])
        if origin is not None:
            campaigns |= _attributed(attributions, origin["contact_id"], origin["created_at"])
        for campaign in campaigns:
            counts[campaign][2] += 1
            counts[campaign][3] += Decimal(str(deal["amount"]))
    names = dict(await Campaign.filter(agency, id__in=list(counts)).values_list("id", "title"))
    found = [
        CampaignSource(
            campaign_id=campaign,
            campaign_title=names.get(campaign, ""),
            leads=leads_n,
            converted=converted,
            won_deals=won_n,
            won_amount=_money(amount),
        )
        for campaign, (leads_n, converted, won_n, amount) in counts.items()
    ]
    found.sort(key=lambda c: (c.campaign_title, str(c.campaign_id)))
    return found


async def emails_sent(actor: Actor, period: DashboardFilter) -> Figure:
    """Emails sent to the contacts and customers of the people counted, by sending time."""
    owned = await _owners(actor, period)
    # The message names its record by text: as a uuid on PostgreSQL (only for the record
    # types that have one), to compare with the records' ids.
    key = (
        RawSQL(
            "CASE WHEN \"record_type\" IN ('contact', 'customer') "
            'THEN CAST("record_id" AS UUID) END'
        )
        if _is_postgres(Message)
        else RawSQL('"record_id"')
    )
    sent = (
        Message.filter(
            agency_id=actor.agency_id,
            status="sent",
            channel="email",
            sent_at__gte=period.since,
            sent_at__lt=period.until,
        )
        .exclude(source__startswith=BROADCAST_SOURCE)
        .annotate(record_key=key)
        .filter(
            Q(record_type="contact", record_key__in=Subquery(Contact.filter(owned).values("id")))
            | Q(
                record_type="customer",
                record_key__in=Subquery(Customer.filter(owned).values("id")),
            )
        )
    )
    return (await _by_bucket(sent, Message, "sent_at", period.bucket)).figure(period)


def plus(*figures: Figure) -> Figure:
    """Figures of the same period added up, bucket by bucket."""
    return Figure(
        sum((f.value for f in figures), ZERO),
        [
            Point(points[0].start, sum((p.value for p in points), ZERO))
            for points in zip(*(f.series for f in figures), strict=True)
        ],
    )
