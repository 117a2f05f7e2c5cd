"""Lead scoring resolvers: thin calls into domain.lead_scoring."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from strawberry import relay

from domain import lead_scoring
from domain.lead_scoring import ContactScore, ScoringErrorCode, ScoringRules
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_node_ids


async def scoring_rules(context: RequestContext, version: int | None) -> ScoringRules | None:
    return await answer(lead_scoring.get_scoring_rules(actor_of(context), version))


async def contact_score(
    context: RequestContext, contact_id: relay.GlobalID, as_of: datetime | None
) -> ContactScore | None:
    """The score, or null for a contact the caller cannot see (or with no rules published)."""
    actor = actor_of(context)
    return await found_or_none(
        lambda: lead_scoring.contact_score(
            actor, node_uuid(contact_id, "Contact", ScoringErrorCode), as_of
        )
    )


async def publish_scoring_rules(context: RequestContext, data: Any) -> Outcome[ScoringRules]:
    actor = actor_of(context)
    return await attempt(
        ScoringErrorCode, lambda: lead_scoring.publish_scoring_rules(actor, given(data))
    )


async def record_behaviour(context: RequestContext, data: Any) -> Outcome[ContactScore | None]:
    actor = actor_of(context)

    async def record() -> ContactScore | None:
        fields = with_node_ids(given(data), ScoringErrorCode, {"contact_id": "Contact"})
        return await lead_scoring.record_behaviour(actor, fields)

    return await attempt(ScoringErrorCode, record)
