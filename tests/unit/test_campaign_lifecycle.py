"""The campaign lifecycle machine: its graph, legal and illegal events, the activation guard
and the final Discarded state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from domain.campaigns import CampaignErrorCode
from domain.errors import DomainError
from domain.lifecycles import apply_event, describe
from domain.lifecycles.campaign import CampaignEvent, CampaignLifecycle, CampaignStatus
from domain.lifecycles.codes import LifecycleErrorCode

READY = {"has_period": True, "period_open": True, "has_published_template": True}


@dataclass
class Record:
    status: str = "draft"


LEGAL = [
    ("draft", "submit", "new"),
    ("draft", "discard", "discarded"),
    ("new", "activate", "active"),
    ("new", "discard", "discarded"),
    ("active", "deactivate", "inactive"),
    ("inactive", "activate", "active"),
    ("inactive", "discard", "discarded"),
]


@pytest.mark.parametrize(("source", "event", "target"), LEGAL)
async def test_legal_event_moves_the_campaign(source: str, event: str, target: str) -> None:
    record = Record(source)
    await apply_event(
        CampaignLifecycle, record, event, CampaignErrorCode.INVALID_TRANSITION, facts=READY
    )
    assert record.status == target


ILLEGAL = [
    (state.value, event.value)
    for state in CampaignStatus
    for event in CampaignEvent
    if (state.value, event.value) not in {(s, e) for s, e, _ in LEGAL}
]


@pytest.mark.parametrize(("source", "event"), ILLEGAL)
async def test_illegal_event_is_refused_and_leaves_status(source: str, event: str) -> None:
    record = Record(source)
    with pytest.raises(DomainError) as raised:
        await apply_event(
            CampaignLifecycle, record, event, CampaignErrorCode.INVALID_TRANSITION, facts=READY
        )
    assert raised.value.code == CampaignErrorCode.INVALID_TRANSITION
    assert record.status == source


def test_discarded_accepts_nothing_and_is_the_only_final_state() -> None:
    lifecycle = describe(CampaignLifecycle)
    assert [s.id for s in lifecycle.states if s.final] == ["discarded"]
    assert not [t for t in lifecycle.transitions if t.source == "discarded"]


@pytest.mark.parametrize(
    ("facts", "missing"),
    [
        ({**READY, "has_period": False}, "a period (start and end)"),
        ({**READY, "has_published_template": False}, "a published template"),
        ({**READY, "period_open": False}, "the period has ended"),
    ],
)
async def test_activation_needs_a_period_and_a_published_template(
    facts: dict[str, Any], missing: str
) -> None:
    record = Record("new")
    with pytest.raises(DomainError) as raised:
        await apply_event(
            CampaignLifecycle, record, "activate", CampaignErrorCode.INVALID_TRANSITION, facts=facts
        )
    assert raised.value.code == LifecycleErrorCode.GUARD_FAILED
    assert missing in raised.value.message
    assert record.status == "new"
