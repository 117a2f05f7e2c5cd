"""What a campaign's owner hears about it besides status changes: its activity, batched.

The period workflow wakes hourly while the campaign runs and calls `notify_activity`, which
tells the owner the views, likes and sign-ups since the last notification, in one message,
and only when there are some. The totals already told are kept on the campaign
(`activity_notified`), updated in the transaction that leaves the notification, so a
retried activity tells nothing twice. How it arrives (inbox, email, both or not at all) is
the owner's choice for the `campaign_activity` kind.
"""

from __future__ import annotations

from uuid import UUID

from tortoise.transactions import in_transaction

from db.campaigns import Campaign
from domain import campaign_counters
from domain.actors import Actor
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user

KINDS = (
    ("views", "view", "views"),
    ("likes", "like", "likes"),
    ("enrolments", "sign-up", "sign-ups"),
)


def counted(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


async def notify_activity(campaign_id: UUID) -> bool:
    """Tell the owner what is new since the last time; False if nothing is."""
    async with in_transaction() as conn:
        campaign = await Campaign.filter(id=campaign_id).using_db(conn).select_for_update().first()
        if campaign is None:
            return False
        totals = (await campaign_counters.totals([campaign_id], conn))[campaign_id]
        now = {"views": totals.views, "likes": totals.likes, "enrolments": totals.enrolments}
        told = campaign.activity_notified or {}
        new = {key: now[key] - int(told.get(key, 0)) for key in now}
        if not any(value > 0 for value in new.values()):
            return False
        # A query update: the campaign's updated_at stays its last real change.
        await (
            Campaign.filter(id=campaign.id).using_db(conn).update(activity_notified={**told, **now})
        )
        parts = [counted(new[key], one, many) for key, one, many in KINDS if new[key] > 0]
        message = f"Campaign {campaign.title!r}: {', '.join(parts)} since the last update."
        await notify_user(
            Actor.system(campaign.agency_id, "campaign_activity"),
            campaign.owner_id,
            message,
            "campaign",
            str(campaign.id),
            "campaign",
            conn,
            NotificationKind.CAMPAIGN_ACTIVITY,
        )
    return True
