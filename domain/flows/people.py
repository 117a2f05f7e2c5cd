"""Whom a flow step means when it names a role: one active user of the agency, chosen the same
way every time.

The choice spreads calling work: among the active users holding the role, the one with the
fewest open calling tasks (New, Scheduled, Re-Scheduled) is taken; ties go to the user created
first, then to the smallest id, so the same state of the agency always gives the same person.
When nobody active holds the role, an Admin is chosen the same way (every agency has one from
its bootstrap), so an escalation "to a Sales Head" still reaches someone who can act.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.functions import Count

from db.calling_tasks import CallingTask
from db.users import User
from domain.actors import Actor
from domain.errors import DomainError
from domain.roles import Role

OPEN_TASK_STATUSES = ("new", "scheduled", "rescheduled")


class FlowPeopleErrorCode(StrEnum):
    NOBODY_WITH_ROLE = "NOBODY_WITH_ROLE"


async def _least_busy(actor: Actor, candidates: list[dict[str, Any]]) -> UUID | None:
    if not candidates:
        return None
    ids = [candidate["id"] for candidate in candidates]
    counts = await (
        CallingTask.filter(
            agency_id=actor.agency_id,
            assignee_id__in=ids,
            status__in=OPEN_TASK_STATUSES,
            deleted_at__isnull=True,
        )
        .annotate(open_tasks=Count("id"))
        .group_by("assignee_id")
        .values("assignee_id", "open_tasks")
    )
    open_tasks = {str(row["assignee_id"]): row["open_tasks"] for row in counts}
    chosen = min(
        candidates,
        key=lambda c: (open_tasks.get(str(c["id"]), 0), c["created_at"], str(c["id"])),
    )
    value = chosen["id"]
    return value if isinstance(value, UUID) else UUID(str(value))


async def user_with_role(actor: Actor, role: str) -> UUID:
    """The user a `role:<role>` step means now (see the module docstring)."""
    # Roles are a JSON list: filtered here, since JSON containment is not portable.
    users = await User.filter(agency_id=actor.agency_id, is_active=True).values(
        "id", "roles", "created_at"
    )
    for wanted in (role, Role.ADMIN.value):
        chosen = await _least_busy(actor, [u for u in users if wanted in (u["roles"] or [])])
        if chosen is not None:
            return chosen
    raise DomainError(
        FlowPeopleErrorCode.NOBODY_WITH_ROLE,
        f"No active user with the role {role!r} (nor an admin) in the agency.",
        "to",
    )
