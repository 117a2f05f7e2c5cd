"""What contacts do that lead scoring counts, written where it happens.

Meetings held, replies received and campaign sign-ups are noted by the services that record
them, in their own transactions; page visits and email opens are reported by integrators
through the API (`domain.lead_scoring.record_behaviour`). Each note also asks (through the
outbox, so nothing is lost if Temporal is down) for the contact's score watch to look again:
that run moves the contact across the threshold and follows its decay.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from db.lead_scoring import ContactBehaviour, ScoringRules
from domain.lead_scoring_rules import Behaviour
from domain.outbox import OutboxKind, enqueue


def watch_id(contact_id: UUID) -> str:
    return f"contact-score:{contact_id}"


async def watch_score(agency_id: UUID, contact_id: UUID, conn: BaseDBAsyncClient) -> None:
    """Have the contact's score watch look again (started if it is not running), when the
    agency scores at all."""
    if await ScoringRules.filter(agency_id=agency_id).using_db(conn).exists():
        payload = {"agency_id": str(agency_id), "contact_id": str(contact_id)}
        await enqueue(agency_id, OutboxKind.WATCH_SCORE, watch_id(contact_id), payload, conn)


async def note_behaviour(
    agency_id: UUID,
    contact_id: UUID,
    behaviour: Behaviour,
    detail: str,
    occurred_at: datetime,
    conn: BaseDBAsyncClient,
) -> ContactBehaviour:
    """Record one thing the contact did, in the caller's transaction, and have its score
    looked at again."""
    noted = await ContactBehaviour.create(
        agency_id=agency_id,
        contact_id=contact_id,
        kind=behaviour.value,
        detail=detail[:500],
        occurred_at=occurred_at,
        using_db=conn,
    )
    await watch_score(agency_id, contact_id, conn)
    return noted
