"""The daily campaign summary: at the end of each owner's day, in the owner's time zone, what
their campaigns did that day (views, likes, sign-ups, new contacts, conversions).

A Temporal Schedule (`crm.schedules`) starts `CampaignSummaries` every quarter hour (aligned
to the hour in UTC); each run passes its time here, and the owners whose local day ended in
the quarter hour before it (local time 00:00 to 00:14) get the summary of that day. Every
time zone's offset is whole quarter hours, so every owner's midnight falls in exactly one run.
The owner's time zone is read when the run comes (theirs, else the agency's, else UTC), so a
changed time zone needs no rescheduling. Campaigns summarised remember the day
(`activity_notified["summary_day"]`), so a run retried or repeated sends nothing twice.

Conversions are the won deals, closed that day, of contacts the campaign brought in.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.campaigns import Campaign, CampaignAttribution
from db.deals import Deal
from db.users import User
from domain import campaign_counters
from domain.actors import Actor
from domain.campaign_notifications import counted
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user

EVERY = timedelta(minutes=15)
SUMMARY_DAY = "summary_day"
# An in-active campaign is still summarised this long after its last change (the day it ended).
ENDED_WITHIN = timedelta(days=2)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


async def send_daily_summaries(moment: datetime) -> int:
    """Summaries for the owners whose local day ended in the quarter hour before `moment`;
    how many were sent."""
    recent = moment - ENDED_WITHIN
    campaigns = await Campaign.filter(
        Q(status="active") | Q(status="inactive", updated_at__gte=recent)
    )
    by_owner: dict[UUID, list[Campaign]] = defaultdict(list)
    for campaign in campaigns:
        by_owner[campaign.owner_id].append(campaign)
    if not by_owner:
        return 0
    owners = {u.id: u for u in await User.filter(id__in=list(by_owner))}
    agencies = {a.id: a for a in await Agency.filter(id__in=[u.agency_id for u in owners.values()])}
    sent = 0
    for owner_id, theirs in by_owner.items():
        owner = owners.get(owner_id)
        if owner is None:
            continue
        agency = agencies.get(owner.agency_id)
        zone = _zone(owner.time_zone or (agency.time_zone if agency else None))
        local = moment.astimezone(zone)
        if local.hour != 0 or local.minute >= EVERY.seconds // 60:
            continue
        if await send_summary(owner, theirs, local.date() - timedelta(days=1), zone):
            sent += 1
    return sent


async def send_summary(owner: User, campaigns: list[Campaign], day: date, zone: ZoneInfo) -> bool:
    """One owner's summary of `day` (their local date); False if it was sent already."""
    start = datetime.combine(day, datetime.min.time(), zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    ids = [c.id for c in campaigns]
    counts = await campaign_counters.between(ids, start, end)
    attributions = await CampaignAttribution.filter(campaign_id__in=ids).values_list(
        "campaign_id", "contact_id", "created_at"
    )
    new_contacts: dict[UUID, int] = defaultdict(int)
    contacts_of: dict[UUID, set[UUID]] = defaultdict(set)
    for campaign_id, contact_id, created_at in attributions:
        key = UUID(str(campaign_id))
        contacts_of[key].add(UUID(str(contact_id)))
        if start <= created_at < end:
            new_contacts[key] += 1
    won = await Deal.filter(
        contact_id__in=list({c for contacts in contacts_of.values() for c in contacts}),
        status="won",
        # In UTC: SQLite compares the stored UTC text, not the instant.
        closed_at__gte=start.astimezone(UTC),
        closed_at__lt=end.astimezone(UTC),
        deleted_at__isnull=True,
    ).values_list("contact_id", flat=True)
    conversions = {
        campaign_id: sum(1 for contact in won if contact in contacts)
        for campaign_id, contacts in contacts_of.items()
    }
    lines = [f"Your campaigns on {day.isoformat()} ({zone.key}):"]
    for campaign in sorted(campaigns, key=lambda c: c.title):
        done = counts[campaign.id]
        lines.append(
            f"- {campaign.title}: {counted(done.views, 'view', 'views')}, "
            f"{counted(done.likes, 'like', 'likes')}, "
            f"{counted(done.enrolments, 'sign-up', 'sign-ups')}, "
            f"{counted(new_contacts[campaign.id], 'new contact', 'new contacts')}, "
            f"{counted(conversions.get(campaign.id, 0), 'conversion', 'conversions')}"
        )
    async with in_transaction() as conn:
        locked = await Campaign.filter(id__in=ids).using_db(conn).select_for_update().order_by("id")
        if all(c.activity_notified.get(SUMMARY_DAY) == day.isoformat() for c in locked):
            return False
        for campaign in locked:
            # A query update: the campaign's updated_at stays its last real change.
            marked = {**campaign.activity_notified, SUMMARY_DAY: day.isoformat()}
            await Campaign.filter(id=campaign.id).using_db(conn).update(activity_notified=marked)
        await notify_user(
            Actor.system(owner.agency_id, "campaign_summary"),
            owner.id,
            "\n".join(lines),
            "user",
            str(owner.id),
            f"campaign_summary:{day.isoformat()}",
            conn,
            NotificationKind.CAMPAIGN_SUMMARY,
        )
    return True
