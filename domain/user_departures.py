"""What happens to a user's work when an admin deactivates them: it moves to a successor.

Deactivating a user (`updateUser(input: {id, isActive: false, reassignToId})`) hands
their *open* work, in the same transaction, to one successor:

* the user chosen (`reassignToId`: an active user of the agency), else
* their manager, if active, else
* the nearest Sales Head up the org tree (their own unit first, then each parent), else
* the admin who deactivates them (nobody when the system does, or when admins deactivate
  themselves: the work is left unowned for another admin to give out).

Open work is: contacts not converted, every customer, leads not converted or disqualified,
open deals, calling tasks not done or aborted (their assignee), meetings proposed or booked,
and the agency's lead assignee when it names the user. Closed records (converted, won, lost,
done, held, ...) keep the departed user as owner: they are history, and reports by owner stay
true. Each moved record gets an audit row and an `<record>.updated` event with its new owner,
as any owner change does; the user's sessions end. Nothing is deleted: reactivating the user
gives them nothing back automatically.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from db.agencies import Agency, OrgUnit
from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.customers import Customer
from db.deals import Deal
from db.leads import Lead
from db.meetings import Meeting
from db.sessions import Session
from db.users import User
from domain.actors import Actor
from domain.errors import DomainError
from domain.record_changes import record_updated
from domain.roles import Role

# Record type -> (model, owner column, the statuses that are still open; None: all).
OPEN_WORK: dict[str, tuple[type[Model], str, tuple[str, ...] | None]] = {
    "contact": (Contact, "owner_id", ("new", "hot", "cold", "not_interested")),
    "customer": (Customer, "owner_id", None),
    "lead": (Lead, "owner_id", ("new", "qualified")),
    "deal": (Deal, "owner_id", ("open",)),
    "calling_task": (CallingTask, "assignee_id", ("new", "scheduled", "rescheduled")),
    "meeting": (Meeting, "owner_id", ("proposed", "booked")),
}


async def successor(
    actor: Actor, user: User, chosen: UUID | None, conn: BaseDBAsyncClient, codes: Any
) -> UUID | None:
    """Who takes over `user`'s open work (module docstring); None only when nobody can."""
    if chosen is not None:
        active = (
            chosen != user.id
            and await User.filter(id=chosen, agency_id=actor.agency_id, is_active=True)
            .using_db(conn)
            .exists()
        )
        if not active:
            raise DomainError(
                codes.NOT_FOUND, "Hand the work to another active user.", "reassign_to_id"
            )
        return chosen
    if user.manager_id is not None and user.manager_id != user.id:
        manager = (
            await User.filter(id=user.manager_id, agency_id=actor.agency_id, is_active=True)
            .using_db(conn)
            .first()
        )
        if manager is not None:
            return manager.id
    head = await _nearest_head(actor, user, conn)
    if head is not None:
        return head
    return actor.user_id if actor.user_id != user.id else None  # never to the one leaving


async def _nearest_head(actor: Actor, user: User, conn: BaseDBAsyncClient) -> UUID | None:
    if user.org_unit_id is None:
        return None
    unit = (
        await OrgUnit.filter(id=user.org_unit_id, agency_id=actor.agency_id).using_db(conn).first()
    )
    if unit is None:
        return None
    # The path lists the units from the root down: walk it upwards.
    unit_ids = [UUID(part) for part in unit.path.strip("/").split("/")][::-1]
    candidates = (
        await User.filter(agency_id=actor.agency_id, is_active=True, org_unit_id__in=unit_ids)
        .exclude(id=user.id)
        .using_db(conn)
        .order_by("created_at")
    )
    for unit_id in unit_ids:
        for candidate in candidates:
            if candidate.org_unit_id == unit_id and Role.SALES_HEAD.value in candidate.roles:
                return candidate.id
    return None


async def hand_over(
    actor: Actor, user: User, to: UUID | None, conn: BaseDBAsyncClient
) -> dict[str, int]:
    """Move the user's open work to `to` (records audited one by one) and end their
    sessions; how many records of each type moved."""
    moved: dict[str, int] = {}
    for record_type, (model, column, open_statuses) in OPEN_WORK.items():
        query = model.filter(agency_id=actor.agency_id, **{column: user.id})
        if open_statuses is not None:
            query = query.filter(status__in=open_statuses)
        ids = await query.using_db(conn).values_list("id", flat=True)
        if not ids:
            continue
        await model.filter(id__in=ids).using_db(conn).update(**{column: to})
        old, new = {column: str(user.id)}, {column: str(to) if to else None}
        for record_id in ids:
            await record_updated(actor, record_type, str(record_id), old, new, conn)
        moved[record_type] = len(ids)
    agency = await Agency.filter(id=actor.agency_id).using_db(conn).first()
    if agency is not None and agency.lead_assignee == str(user.id):
        agency.lead_assignee = str(to) if to else "role:sales_person"
        await agency.save(using_db=conn, update_fields=["lead_assignee"])
        await record_updated(
            actor,
            "agency",
            str(agency.id),
            {"lead_assignee": str(user.id)},
            {"lead_assignee": agency.lead_assignee},
            conn,
        )
    await (
        Session.filter(user_id=user.id, revoked_at__isnull=True)
        .using_db(conn)
        .update(revoked_at=datetime.now(UTC))
    )
    return moved
