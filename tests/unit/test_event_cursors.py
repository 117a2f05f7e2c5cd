"""Event cursors and event type patterns, shared by subscriptions and webhooks."""

from __future__ import annotations

import pytest

from domain.errors import DomainError
from domain.event_subscriptions import cursor_position, event_cursor
from domain.event_types import event_type_matches


def test_a_cursor_round_trips_to_its_event_id() -> None:
    assert cursor_position(event_cursor(0)) == 0
    assert cursor_position(event_cursor(123_456_789_012)) == 123_456_789_012


@pytest.mark.parametrize("cursor", ["", "42", "not base64!", event_cursor(1)[:-2] + "zz"])
def test_a_cursor_the_api_did_not_give_out_is_invalid(cursor: str) -> None:
    with pytest.raises(DomainError) as invalid:
        cursor_position(cursor)
    assert invalid.value.code == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("patterns", "event_type", "matches"),
    [
        (["contact.created"], "contact.created", True),
        (["contact.created"], "contact.updated", False),
        (["contact.*"], "contact.transitioned", True),
        (["contact.*"], "contacts.created", False),
        (["*"], "webhook_endpoint.disabled", True),
        (["customer.*", "contact.deleted"], "contact.deleted", True),
    ],
)
def test_event_type_patterns(patterns: list[str], event_type: str, matches: bool) -> None:
    assert event_type_matches(patterns, event_type) is matches
