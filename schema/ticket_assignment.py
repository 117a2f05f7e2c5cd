"""Ticket assignment rules: types, inputs and payloads."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.ticket_assignment import MAX_RULES, AssignmentErrorCode
from domain.ticket_assignment import TicketAssignmentRule as RuleRecord
from resolvers import ticket_assignment as resolve
from schema.enum_values import error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    error_code,
    error_field,
    error_message,
    payload_errors,
)

error_code_enum(AssignmentErrorCode, "TicketAssignmentErrorCode", "ticket assignment rules")


@strawberry.type(
    description="A ticket matching every non-empty criterion goes to the team's queue, then to "
    "its next agent (round-robin). The first matching rule wins."
)
class TicketAssignmentRule:
    category: str = strawberry.field(description="A ticket category (lower case), or empty: any.")
    priority: str = strawberry.field(description="low, normal, high, urgent, or empty: any.")
    rating: str = strawberry.field(description="A customer rating, or empty: any.")

    @strawberry.field(description="The OrgUnit whose queue takes the ticket.")
    def team_id(self, root: strawberry.Parent[RuleRecord]) -> relay.GlobalID:
        return relay.GlobalID("OrgUnit", str(root.team_id))


@strawberry.input(
    description="One rule: a ticket matching every non-empty criterion goes to the team. Text "
    "is compared in lower case."
)
class TicketAssignmentRuleInput:
    team_id: relay.GlobalID = strawberry.field(
        description="The OrgUnit (team) whose queue takes the ticket (else NOT_FOUND)."
    )
    category: str = strawberry.field(
        default="", description="A ticket category, at most 50 characters; empty: any."
    )
    priority: str = strawberry.field(
        default="", description="low, normal, high or urgent (else INVALID); empty: any."
    )
    rating: str = strawberry.field(
        default="", description="A customer rating, at most 20 characters; empty: any."
    )


@strawberry.input(description="The whole ordered list; it replaces the old one.")
class SetTicketAssignmentRulesInput:
    rules: list[TicketAssignmentRuleInput] = strawberry.field(
        description=f"At most {MAX_RULES} rules (else TOO_MANY), the first matching one "
        "winning; an empty list removes every rule."
    )


@strawberry.type(description="A problem with the input; nothing was changed.")
class TicketAssignmentError:
    field: str | None = error_field()
    code: AssignmentErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the rules as saved, or the errors that stopped it "
    "(then the old rules stay)."
)
class TicketAssignmentRulesPayload:
    rules: list[TicketAssignmentRule] | None = strawberry.field(
        description="The rules as saved, in order; null when `errors` is not empty."
    )
    errors: list[TicketAssignmentError] = payload_errors()


@strawberry.type
class TicketAssignmentQuery:
    @strawberry.field(description="The agency's ticket assignment rules, in order.")
    async def ticket_assignment_rules(self, info: Info) -> list[TicketAssignmentRule]:
        return await resolve.rules(info.context)  # type: ignore[return-value]


@strawberry.type
class TicketAssignmentMutation:
    @strawberry.mutation(
        description="Replace the ticket assignment rules (admins; else FORBIDDEN). Errors: "
        "TOO_MANY, INVALID, TOO_LONG, REQUIRED, NOT_FOUND (a team), FORBIDDEN."
    )
    async def set_ticket_assignment_rules(
        self, info: Info, input: Annotated[SetTicketAssignmentRulesInput, MUTATION_INPUT]
    ) -> TicketAssignmentRulesPayload:
        outcome = await resolve.set_rules(info.context, input)
        return TicketAssignmentRulesPayload(
            rules=outcome.value,  # type: ignore[arg-type]
            errors=errors_as(TicketAssignmentError, outcome.errors),
        )
