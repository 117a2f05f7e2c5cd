"""Lead assignment rules and the spread of records over people: types, inputs, payloads."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.lead_assignment import MAX_RULES, LeadAssignmentErrorCode
from domain.lead_assignment import LeadAssignmentRules as RulesRecord
from domain.lead_assignment import Share as ShareRecord
from resolvers import lead_assignment as resolve
from schema.enum_values import error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    error_code,
    error_field,
    error_message,
    payload_errors,
)

error_code_enum(LeadAssignmentErrorCode, "LeadAssignmentErrorCode", "lead assignment rules")


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(
    description="A contact or lead created without an owner and matching every non-empty "
    "criterion goes to the rule's person, or round-robin to its team's active sales people. "
    "The first matching rule wins."
)
class LeadAssignmentRule:
    country: str = strawberry.field(description="ISO 3166 alpha-2 code, or empty: any.")
    region: str = strawberry.field(description="A region (lower case), or empty: any.")
    postcode_prefix: str = strawberry.field(description="Postcodes starting so, or empty: any.")
    source: str = strawberry.field(description="A source (lower case), or empty: any.")
    industry: str = strawberry.field(
        description="The lead's customer's industry (lower case), or empty: any."
    )
    min_value: Decimal | None = strawberry.field(
        description="Leads worth at least this (estimated value); null: any."
    )
    team_id: relay.GlobalID | None = strawberry.field(description="The OrgUnit dealt to.")
    user_id: relay.GlobalID | None = strawberry.field(description="The User given to.")

    @classmethod
    def of(cls, rule: dict[str, Any]) -> LeadAssignmentRule:
        return cls(
            country=rule["country"],
            region=rule["region"],
            postcode_prefix=rule["postcode_prefix"],
            source=rule["source"],
            industry=rule["industry"],
            min_value=Decimal(rule["min_value"]) if rule["min_value"] is not None else None,
            team_id=_gid("OrgUnit", rule["team_id"]),
            user_id=_gid("User", rule["user_id"]),
        )


@strawberry.type(description="The agency's lead assignment rules.")
class LeadAssignmentRules:
    fallback_owner_id: relay.GlobalID | None = strawberry.field(
        description="The User who gets what no rule matches; null: it stays unowned."
    )
    rules: list[LeadAssignmentRule] = strawberry.field(description="In order.")

    @classmethod
    def of(cls, row: RulesRecord) -> LeadAssignmentRules:
        return cls(
            fallback_owner_id=_gid("User", row.fallback_owner_id),
            rules=[LeadAssignmentRule.of(rule) for rule in row.rules],
        )


@strawberry.type(description="How many records one person owns.")
class OwnerShare:
    user_id: relay.GlobalID = strawberry.field(description="The User.")
    name: str = strawberry.field(description="Their name.")
    contacts: int = strawberry.field(description="Live contacts they own.")
    leads: int = strawberry.field(description="Open (New or Qualified) leads they own.")

    @classmethod
    def of(cls, share: ShareRecord) -> OwnerShare:
        return cls(
            user_id=relay.GlobalID("User", str(share.user_id)),
            name=share.name,
            contacts=share.contacts,
            leads=share.leads,
        )


@strawberry.input(
    description="One rule: a new record matching every non-empty criterion goes to its person "
    "or team (name exactly one, else INVALID). Text is compared case aside."
)
class LeadAssignmentRuleInput:
    team_id: relay.GlobalID | None = strawberry.field(
        default=None, description="An OrgUnit whose sales people take turns (else NOT_FOUND)."
    )
    user_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A User (else NOT_FOUND); skipped while inactive."
    )
    country: str = strawberry.field(default="", description="ISO 3166 alpha-2; empty: any.")
    region: str = strawberry.field(default="", description="At most 100 characters.")
    postcode_prefix: str = strawberry.field(default="", description="At most 20 characters.")
    source: str = strawberry.field(default="", description="At most 100 characters.")
    industry: str = strawberry.field(default="", description="At most 100 characters.")
    min_value: Decimal | None = strawberry.field(
        default=None, description="At least 0; only leads have a value."
    )


@strawberry.input(description="The whole ordered list and the fallback; they replace the old.")
class SetLeadAssignmentRulesInput:
    rules: list[LeadAssignmentRuleInput] = strawberry.field(
        description=f"At most {MAX_RULES} rules (else TOO_MANY); an empty list: no rules."
    )
    fallback_owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Who gets what no rule matches (a User); null: nobody."
    )


@strawberry.type(description="A problem with the input; nothing was changed.")
class LeadAssignmentError:
    field: str | None = error_field()
    code: LeadAssignmentErrorCode = error_code()
    message: str = error_message()


@strawberry.type(description="The rules as saved, or the errors that stopped them.")
class LeadAssignmentRulesPayload:
    assignment: LeadAssignmentRules | None = strawberry.field(
        description="The rules as saved; null when `errors` is not empty."
    )
    errors: list[LeadAssignmentError] = payload_errors()


@strawberry.type
class LeadAssignmentQuery:
    @strawberry.field(description="Who new contacts and leads without an owner go to.")
    async def lead_assignment_rules(self, info: Info) -> LeadAssignmentRules:
        return LeadAssignmentRules.of(await resolve.rules(info.context))

    @strawberry.field(
        description="Sales heads (their team) and admins (everyone): how many live contacts "
        "and open leads each person owns, the busiest first. Sales people: FORBIDDEN."
    )
    async def lead_distribution(self, info: Info) -> list[OwnerShare]:
        return [OwnerShare.of(share) for share in await resolve.distribution(info.context)]


@strawberry.type
class LeadAssignmentMutation:
    @strawberry.mutation(
        description="Replace the lead assignment rules (admins). Errors: TOO_MANY, INVALID, "
        "TOO_LONG, OUT_OF_RANGE, NOT_FOUND (a team or user), FORBIDDEN."
    )
    async def set_lead_assignment_rules(
        self, info: Info, input: Annotated[SetLeadAssignmentRulesInput, MUTATION_INPUT]
    ) -> LeadAssignmentRulesPayload:
        outcome = await resolve.set_rules(info.context, input)
        return LeadAssignmentRulesPayload(
            assignment=LeadAssignmentRules.of(outcome.value) if outcome.value else None,
            errors=errors_as(LeadAssignmentError, outcome.errors),
        )
