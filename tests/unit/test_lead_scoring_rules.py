"""Lead scoring arithmetic: rules over fields, custom fields, tags and behaviour, explained
part by part, with behaviour points halving every half-life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from domain.lead_scoring_rules import (
    ContactFacts,
    Happened,
    ScoringRulesInput,
    falls_below_at,
    score,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
RULES = ScoringRulesInput.model_validate(
    {
        "threshold": 50,
        "half_life_days": 7,
        "rules": [
            {
                "name": "Decision maker",
                "kind": "field",
                "field": "job_title",
                "operator": "contains",
                "value": "director",
                "points": 20,
            },
            {
                "name": "Big company",
                "kind": "custom_field",
                "field": "employees",
                "operator": "at_least",
                "value": "500",
                "points": 15,
            },
            {"name": "VIP", "kind": "tag", "value": "vip", "points": 10},
            {
                "name": "Pricing page",
                "kind": "behaviour",
                "behaviour": "page_visit",
                "value": "https://acme.example.com/pricing",
                "points": 10,
                "max_points": 25,
            },
            {"name": "Replied", "kind": "behaviour", "behaviour": "email_replied", "points": 30},
            {
                "name": "Student",
                "kind": "field",
                "field": "emails",
                "operator": "contains",
                "value": ".edu",
                "points": -40,
            },
        ],
    }
).model_dump(mode="json")


def facts(*happened: Happened, title: str = "Sales Director") -> ContactFacts:
    return ContactFacts(
        fields={"job_title": title, "emails": ["ada@acme.example.com"]},
        custom={"employees": 800.0},
        tags=frozenset({"VIP"}),
        behaviour=list(happened),
    )


def visit(days_ago: float, url: str = "https://acme.example.com/pricing/pro") -> Happened:
    return Happened("page_visit", url, NOW - timedelta(days=days_ago))


def test_a_score_is_explained_rule_by_rule_and_capped_behaviour_stops_at_its_cap() -> None:
    found = score(
        RULES["rules"],
        50,
        7,
        facts(visit(0), visit(0), visit(0), visit(0), visit(0, "https://acme.example.com/blog")),
        NOW,
    )

    parts = {part.name: (part.points, part.matches) for part in found.rules}
    assert parts == {
        "Decision maker": (20.0, 1),
        "Big company": (15.0, 1),
        "VIP": (10.0, 1),
        "Pricing page": (25.0, 4),  # four visits of the pricing pages, capped; the blog is not
    }
    assert (found.total, found.qualified) == (70, True)


def test_behaviour_points_halve_every_half_life_and_the_fall_below_the_threshold_is_found() -> None:
    replied = Happened("email_replied", "Re: offer", NOW)
    contact = facts(replied, title="Engineer")  # 15 + 10 static, 30 decaying

    assert score(RULES["rules"], 50, 7, contact, NOW).total == 55
    assert score(RULES["rules"], 50, 7, contact, NOW + timedelta(days=7)).total == 40  # 25 + 15

    below = falls_below_at(RULES["rules"], 50, 7, contact, NOW)
    assert below is not None
    # The total is rounded: below 50 once 25 + 30 * 0.5 ** (t / 7) < 49.5, that is
    # t > 7 * log2(30 / 24.5), about 2.045 days.
    assert timedelta(days=2.04) < below - NOW < timedelta(days=2.05)
    assert falls_below_at(RULES["rules"], 50, None, contact, NOW) is None  # no decay


def test_rules_that_cannot_be_evaluated_are_refused() -> None:
    for broken in (
        {"name": "x", "kind": "behaviour", "points": 5},  # which behaviour?
        {"name": "x", "kind": "field", "field": "password_hash", "points": 5},
        {"name": "x", "kind": "tag", "points": 5},
        {
            "name": "x",
            "kind": "field",
            "field": "city",
            "operator": "at_least",
            "value": "many",
            "points": 5,
        },
        {"name": "x", "kind": "tag", "value": "vip", "points": 500},
    ):
        with pytest.raises(ValidationError):
            ScoringRulesInput.model_validate({"rules": [broken]})
