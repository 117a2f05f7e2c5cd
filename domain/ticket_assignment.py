"""Who works a new ticket: a team's queue, then round-robin among the team's agents.

A ticket opened without a team or an assignee goes to the team of the first of the agency's
assignment rules that matches it (category, priority, customer rating; an empty one matches
anything); admins edit the rules as data (`set_rules`). A ticket in a team's queue with no
assignee goes to the team's next active agent (users of that org unit with the Customer
Support role), round-robin (`domain.round_robin`, shared with lead assignment). A team
without an active agent keeps the ticket in its queue, unassigned.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.agencies import OrgUnit
from db.ticket_assignment import TicketAssignmentRule as TicketAssignmentRule
from domain.actors import Actor
from domain.audit import record_audit
from domain.errors import DomainError, input_errors
from domain.events import append_event
from domain.field_types import input_codes
from domain.policies import require
from domain.roles import Access, Resource, Role
from domain.round_robin import Queue, next_in_turn

MAX_RULES = 50
AGGREGATE = "ticket_assignment"


class AssignmentErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"


_CODES = input_codes(AssignmentErrorCode)
Optional = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True)]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Annotated[Optional, StringConstraints(max_length=50)] = ""
    priority: Annotated[Optional, StringConstraints(pattern=r"^(|low|normal|high|urgent)$")] = ""
    rating: Annotated[Optional, StringConstraints(max_length=20)] = ""
    team_id: UUID


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(max_length=MAX_RULES)


async def rules(actor: Actor) -> list[TicketAssignmentRule]:
    require(actor, Resource.TICKETS, Access.READ)
    return await TicketAssignmentRule.filter(agency_id=actor.agency_id).order_by("position")


async def set_rules(actor: Actor, data: dict[str, Any]) -> list[TicketAssignmentRule]:
    """Replace the agency's rules whole, in the order given (admins)."""
    require(actor, Resource.ORGANISATION, Access.WRITE)
    try:
        given = Rules.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, _CODES, AssignmentErrorCode.INVALID) from exc
    teams = {rule.team_id for rule in given.rules}
    known = set(
        await OrgUnit.filter(agency_id=actor.agency_id, id__in=teams).values_list("id", flat=True)
    )
    for position, rule in enumerate(given.rules):
        if rule.team_id not in known:
            raise DomainError(
                AssignmentErrorCode.NOT_FOUND, "No such org unit.", f"rules.{position}.team_id"
            )
    async with in_transaction() as conn:
        old = TicketAssignmentRule.filter(agency_id=actor.agency_id).using_db(conn)
        before = [_snapshot(rule) for rule in await old.order_by("position")]
        await old.delete()
        made = [
            await TicketAssignmentRule.create(
                agency_id=actor.agency_id, position=position, **rule.model_dump(), using_db=conn
            )
            for position, rule in enumerate(given.rules)
        ]
        after = {"rules": [_snapshot(rule) for rule in made]}
        agency = str(actor.agency_id)
        await record_audit(actor, AGGREGATE, agency, "update", {"rules": before}, after, conn)
        await append_event(actor, f"{AGGREGATE}.updated", AGGREGATE, agency, after, conn)
    return made


def _snapshot(rule: TicketAssignmentRule) -> dict[str, Any]:
    return {
        "category": rule.category,
        "priority": rule.priority,
        "rating": rule.rating,
        "team_id": str(rule.team_id),
    }


async def team_by_rules(
    agency_id: UUID, category: str, priority: str, rating: str, conn: BaseDBAsyncClient
) -> UUID | None:
    """The team of the first rule the ticket matches, if any."""
    found = (
        await TicketAssignmentRule.filter(agency_id=agency_id).using_db(conn).order_by("position")
    )
    for rule in found:
        if all(
            not wanted or wanted == value.strip().lower()
            for wanted, value in (
                (rule.category, category),
                (rule.priority, priority),
                (rule.rating, rating),
            )
        ):
            return rule.team_id
    return None


async def next_agent(agency_id: UUID, team_id: UUID, conn: BaseDBAsyncClient) -> UUID | None:
    """The team's next active agent (Customer Support) in turn; None if it has none."""
    return await next_in_turn(
        agency_id, team_id, frozenset({Role.CUSTOMER_SUPPORT}), Queue.TICKETS, conn
    )
