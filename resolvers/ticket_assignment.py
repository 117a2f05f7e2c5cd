"""Ticket assignment rule resolvers: thin calls into domain.ticket_assignment."""

from __future__ import annotations

from typing import Any

from domain import ticket_assignment
from domain.ticket_assignment import AssignmentErrorCode, TicketAssignmentRule
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given, with_node_ids


async def rules(context: RequestContext) -> list[TicketAssignmentRule]:
    return await answer(ticket_assignment.rules(actor_of(context)))


async def set_rules(context: RequestContext, data: Any) -> Outcome[list[TicketAssignmentRule]]:
    actor = actor_of(context)

    async def save() -> list[TicketAssignmentRule]:
        listed = [
            with_node_ids(rule, AssignmentErrorCode, {"team_id": "OrgUnit"})
            for rule in given(data)["rules"]
        ]
        return await ticket_assignment.set_rules(actor, {"rules": listed})

    return await attempt(AssignmentErrorCode, save)
