"""Lead assignment resolvers: thin calls into domain.lead_assignment."""

from __future__ import annotations

from typing import Any

from domain import lead_assignment
from domain.errors import DomainError
from domain.lead_assignment import LeadAssignmentErrorCode, LeadAssignmentRules, Share
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given, with_node_ids


async def rules(context: RequestContext) -> LeadAssignmentRules:
    return await answer(lead_assignment.rules_of(actor_of(context)))


async def distribution(context: RequestContext) -> list[Share]:
    return await answer(lead_assignment.distribution(actor_of(context)))


async def set_rules(context: RequestContext, data: Any) -> Outcome[LeadAssignmentRules]:
    actor = actor_of(context)

    async def save() -> LeadAssignmentRules:
        fields = with_node_ids(given(data), LeadAssignmentErrorCode, {"fallback_owner_id": "User"})
        listed = []
        links = {"team_id": "OrgUnit", "user_id": "User"}
        for position, rule in enumerate(fields.get("rules", [])):
            try:
                listed.append(with_node_ids(rule, LeadAssignmentErrorCode, links))
            except DomainError as exc:
                where = f"rules.{position}.{exc.field}"
                raise DomainError(exc.code, exc.message, where) from exc
        return await lead_assignment.set_rules(actor, {**fields, "rules": listed})

    return await attempt(LeadAssignmentErrorCode, save)
