"""Ticket assignment rules: types, inputs and payloads."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.ticket_assignment import AssignmentErrorCode
from domain.ticket_assignment import TicketAssignmentRule as RuleRecord
from resolvers import ticket_assignment as resolve
from schema.payloads import errors_as

strawberry.enum(AssignmentErrorCode, name="TicketAssignmentErrorCode")


@strawberry.type(
    description="A ticket matching every non-empty criterion goes to the team's queue, then to "
    "its next agent (round-robin). The first matching rule wins."
)
class TicketAssignmentRule:
    category: str
    priority: str = strawberry.field(description="low, normal, high, urgent, or empty: any.")
    rating: str = strawberry.field(description="A customer rating, or empty: any.")

    @strawberry.field(description="The OrgUnit whose queue takes the ticket.")
    def team_id(self, root: strawberry.Parent[RuleRecord]) -> relay.GlobalID:
        return relay.GlobalID("OrgUnit", str(root.team_id))


@strawberry.input
class TicketAssignmentRuleInput:
    team_id: relay.GlobalID
    category: str = ""
    priority: str = strawberry.field(default="", description="low, normal, high or urgent.")
    rating: str = ""


@strawberry.input(description="The whole ordered list; it replaces the old one.")
class SetTicketAssignmentRulesInput:
    rules: list[TicketAssignmentRuleInput]


@strawberry.type
class TicketAssignmentError:
    field: str | None
    code: AssignmentErrorCode
    message: str


@strawberry.type
class TicketAssignmentRulesPayload:
    rules: list[TicketAssignmentRule] | None
    errors: list[TicketAssignmentError]


@strawberry.type
class TicketAssignmentQuery:
    @strawberry.field(description="The agency's ticket assignment rules, in order.")
    async def ticket_assignment_rules(self, info: Info) -> list[TicketAssignmentRule]:
        return await resolve.rules(info.context)  # type: ignore[return-value]


@strawberry.type
class TicketAssignmentMutation:
    @strawberry.mutation(description="Replace the ticket assignment rules (admins).")
    async def set_ticket_assignment_rules(
        self, info: Info, input: SetTicketAssignmentRulesInput
    ) -> TicketAssignmentRulesPayload:
        outcome = await resolve.set_rules(info.context, input)
        return TicketAssignmentRulesPayload(
            rules=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(TicketAssignmentError, outcome.errors),
        )
