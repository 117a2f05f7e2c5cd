"""The meeting lifecycle machine: proposed, booked (and moved), then held, no-show or cancelled."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.errors import DomainError
from domain.lifecycles import allowed_events, apply_event, describe
from domain.lifecycles.codes import LifecycleErrorCode
from domain.lifecycles.meeting import MeetingLifecycle


@dataclass
class Record:
    status: str = "proposed"


LEGAL = [
    ("proposed", "book", "booked"),
    ("proposed", "cancel", "cancelled"),
    ("booked", "reschedule", "booked"),
    ("booked", "hold", "held"),
    ("booked", "mark_no_show", "no_show"),
    ("booked", "cancel", "cancelled"),
]


@pytest.mark.parametrize(("source", "event", "target"), LEGAL)
async def test_legal_event_moves_the_meeting(source: str, event: str, target: str) -> None:
    record = Record(source)
    await apply_event(MeetingLifecycle, record, event, LifecycleErrorCode.INVALID_TRANSITION)
    assert record.status == target


@pytest.mark.parametrize("final", ["held", "cancelled", "no_show"])
async def test_a_meeting_that_is_over_takes_no_event(final: str) -> None:
    assert allowed_events(MeetingLifecycle, final) == []
    record = Record(final)
    with pytest.raises(DomainError) as refused:
        await apply_event(MeetingLifecycle, record, "cancel", LifecycleErrorCode.INVALID_TRANSITION)
    assert refused.value.code == LifecycleErrorCode.INVALID_TRANSITION
    assert record.status == final


def test_the_graph_is_the_architecture_pages() -> None:
    lifecycle = describe(MeetingLifecycle)
    assert [s.name for s in lifecycle.states] == [
        "Proposed",
        "Booked",
        "Held",
        "Cancelled",
        "No-show",
    ]
    assert [s.id for s in lifecycle.states if s.final] == ["held", "cancelled", "no_show"]
