"""Lead scoring rules and the arithmetic of a score: pure (no I/O, no db import).

A rule gives points when its criterion holds: a contact field or custom field equals,
contains or reaches a value, the contact carries a tag, or the contact did something
(opened or replied to an email, held a meeting, signed up to a campaign, visited a page).
A behaviour rule gives its points for every such thing the contact did (up to `max_points`),
and those points halve every `half_life_days` since it happened, so a contact who went quiet
cools. A score is the sum over rules, and explains itself rule by rule.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_RULES = 50
DEFAULT_THRESHOLD = 50
# How far ahead a decaying score is followed when looking for the moment it falls below the
# threshold: by then every behaviour point is worth less than a thousandth of itself.
HALF_LIVES_AHEAD = 10


class Behaviour(StrEnum):
    EMAIL_OPENED = "email_opened"
    EMAIL_REPLIED = "email_replied"
    MEETING_HELD = "meeting_held"
    CAMPAIGN_SIGN_UP = "campaign_sign_up"
    PAGE_VISIT = "page_visit"


class CriterionKind(StrEnum):
    FIELD = "field"
    CUSTOM_FIELD = "custom_field"
    TAG = "tag"
    BEHAVIOUR = "behaviour"


class Operator(StrEnum):
    EQUALS = "equals"  # case aside
    CONTAINS = "contains"  # case aside
    PRESENT = "present"  # not empty
    AT_LEAST = "at_least"  # a number


# The contact fields a rule may look at.
SCORED_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "city",
    "region",
    "postal_code",
    "country",
    "source",
    "emails",
    "phones",
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class ScoringRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    kind: CriterionKind
    # FIELD: one of SCORED_FIELDS; CUSTOM_FIELD: the custom field's key
    field: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] = ""
    operator: Operator = Operator.EQUALS
    # what the field is compared with; TAG: the tag; BEHAVIOUR: a page's URL prefix or a
    # campaign id (empty: any)
    value: Text = ""
    behaviour: Behaviour | None = None
    points: Annotated[int, Field(ge=-100, le=100)]
    # BEHAVIOUR: at most this many points however often it happened (None: no cap)
    max_points: Annotated[int, Field(ge=1, le=1000)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> ScoringRule:
        if self.kind is CriterionKind.BEHAVIOUR and self.behaviour is None:
            raise ValueError("A behaviour rule names the behaviour.")
        if self.kind is CriterionKind.FIELD and self.field not in SCORED_FIELDS:
            raise ValueError(f"field is one of {', '.join(SCORED_FIELDS)}.")
        if self.kind is CriterionKind.CUSTOM_FIELD and not self.field:
            raise ValueError("A custom field rule names the field's key.")
        if self.kind is CriterionKind.TAG and not self.value:
            raise ValueError("A tag rule names the tag.")
        if self.operator is Operator.AT_LEAST and self.kind in (
            CriterionKind.FIELD,
            CriterionKind.CUSTOM_FIELD,
        ):
            try:
                float(self.value)
            except ValueError:
                raise ValueError("at_least compares with a number.") from None
        return self


class ScoringRulesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: Annotated[list[ScoringRule], Field(max_length=MAX_RULES)]
    threshold: Annotated[int, Field(ge=1, le=10_000)] = DEFAULT_THRESHOLD
    # None: behaviour points never decay
    half_life_days: Annotated[int, Field(ge=1, le=3650)] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Happened:
    behaviour: str
    detail: str
    occurred_at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class ContactFacts:
    """What the rules look at: the contact's fields, custom values (by key), tags, behaviour."""

    fields: dict[str, Any]
    custom: dict[str, Any]
    tags: frozenset[str]
    behaviour: Sequence[Happened]


@dataclasses.dataclass(frozen=True, slots=True)
class RulePoints:
    """One rule's part of a score: the points it gave and how many things earned them."""

    name: str
    points: float
    matches: int


@dataclasses.dataclass(frozen=True, slots=True)
class Score:
    total: int
    threshold: int
    rules: list[RulePoints]
    as_of: datetime

    @property
    def qualified(self) -> bool:
        return self.total >= self.threshold


def _as_text(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _compare(operator: str, actual: Any, wanted: str) -> bool:
    text = _as_text(actual).strip().casefold()
    if operator == Operator.PRESENT:
        return bool(text)
    if operator == Operator.CONTAINS:
        return bool(wanted) and wanted.casefold() in text
    if operator == Operator.AT_LEAST:
        try:
            return float(text) >= float(wanted)
        except ValueError:
            return False
    if isinstance(actual, list | tuple):
        return any(str(v).strip().casefold() == wanted.casefold() for v in actual)
    return text == wanted.casefold()


def decayed(
    points: float, occurred_at: datetime, as_of: datetime, half_life_days: int | None
) -> float:
    """Points earned at `occurred_at`, worth half as much every half-life since."""
    if half_life_days is None:
        return points
    age_days = max((as_of - occurred_at).total_seconds(), 0.0) / 86_400
    return points * math.pow(0.5, age_days / half_life_days)


def _behaviour_points(
    rule: dict[str, Any], facts: ContactFacts, as_of: datetime, half_life_days: int | None
) -> RulePoints:
    wanted = rule["value"].casefold()
    happened = [
        h
        for h in facts.behaviour
        if h.behaviour == rule["behaviour"]
        and h.occurred_at <= as_of
        and (not wanted or h.detail.casefold().startswith(wanted))
    ]
    points = sum(decayed(rule["points"], h.occurred_at, as_of, half_life_days) for h in happened)
    cap = rule.get("max_points")
    if cap is not None:
        points = max(min(points, cap), -cap)
    return RulePoints(rule["name"], points, len(happened))


def score(
    rules: Sequence[dict[str, Any]],
    threshold: int,
    half_life_days: int | None,
    facts: ContactFacts,
    as_of: datetime,
) -> Score:
    """The contact's score at `as_of`, rule by rule (rules that gave nothing are left out)."""
    parts: list[RulePoints] = []
    for rule in rules:
        kind = rule["kind"]
        if kind == CriterionKind.BEHAVIOUR:
            part = _behaviour_points(rule, facts, as_of, half_life_days)
        else:
            if kind == CriterionKind.TAG:
                held = rule["value"].casefold() in {t.casefold() for t in facts.tags}
            elif kind == CriterionKind.FIELD:
                held = _compare(rule["operator"], facts.fields.get(rule["field"]), rule["value"])
            else:
                held = _compare(rule["operator"], facts.custom.get(rule["field"]), rule["value"])
            part = RulePoints(rule["name"], float(rule["points"]) if held else 0.0, int(held))
        if part.matches:
            parts.append(dataclasses.replace(part, points=round(part.points, 2)))
    total = round(sum(part.points for part in parts))
    return Score(total, threshold, parts, as_of)


def falls_below_at(
    rules: Sequence[dict[str, Any]],
    threshold: int,
    half_life_days: int | None,
    facts: ContactFacts,
    as_of: datetime,
) -> datetime | None:
    """When the score, qualified at `as_of`, falls below the threshold if nothing more happens
    (to the minute); None if it never does (no decay, or enough points that never decay)."""
    if half_life_days is None:
        return None

    def qualified(at: datetime) -> bool:
        return score(rules, threshold, half_life_days, facts, at).qualified

    if not qualified(as_of):
        return as_of
    low, high = as_of, as_of + timedelta(days=half_life_days * HALF_LIVES_AHEAD)
    if qualified(high):
        return None
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if qualified(middle):
            low = middle
        else:
            high = middle
    return high
