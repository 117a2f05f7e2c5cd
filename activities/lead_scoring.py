"""Lead scoring activities: evaluating a contact's score at a workflow's moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from temporalio import activity

from domain import lead_scoring


@dataclass(frozen=True)
class ScoreCheck:
    """What one evaluation found: the contact's status, its score, when to look again."""

    status: str
    total: int | None
    next_check_at: datetime | None


@activity.defn(name="evaluate_contact_score")
async def evaluate_contact_score(agency_id: str, contact_id: str, as_of: str) -> ScoreCheck:
    """Idempotent: evaluating again at the same moment finds the crossing made."""
    found = await lead_scoring.evaluate(
        UUID(agency_id), UUID(contact_id), datetime.fromisoformat(as_of)
    )
    return ScoreCheck(found.status, found.total, found.next_check_at)


SCORING_ACTIVITIES: list[Callable[..., Any]] = [evaluate_contact_score]
