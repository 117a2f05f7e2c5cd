"""Round-robin within a team: who of an org unit's active members with a role gets the next
piece of work (a ticket, a new contact or lead).

The unit's row remembers, per queue, who got the last one and is locked while the next is
chosen, so work arriving at once is dealt out in turn, never twice to one person (SQLite gets
the same from its single writer). Inactive users are skipped.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from db.agencies import OrgUnit
from db.users import User
from domain.roles import Role


class Queue(StrEnum):
    """Which turn of the unit; the value is the OrgUnit column holding who had it last."""

    TICKETS = "last_ticket_assignee_id"
    LEADS = "last_lead_assignee_id"


async def next_in_turn(
    agency_id: UUID, team_id: UUID, roles: frozenset[Role], queue: Queue, conn: BaseDBAsyncClient
) -> UUID | None:
    """The unit's next active member with one of the roles after the last one given work from
    the queue (the unit's row locked until the caller's transaction ends); None if it has none."""
    unit = (
        await OrgUnit.filter(id=team_id, agency_id=agency_id)
        .using_db(conn)
        .select_for_update()
        .first()
    )
    if unit is None:
        return None
    members = await User.filter(agency_id=agency_id, org_unit_id=team_id, is_active=True).using_db(
        conn
    )
    wanted = {role.value for role in roles}
    people = sorted(str(m.id) for m in members if wanted.intersection(m.roles))
    if not people:
        return None
    previous = getattr(unit, queue.value)
    last = str(previous) if previous else ""
    chosen = next((person for person in people if person > last), people[0])
    setattr(unit, queue.value, UUID(chosen))
    await unit.save(using_db=conn, update_fields=[queue.value])
    return UUID(chosen)
