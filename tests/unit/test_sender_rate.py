"""The inbound server's per-sender limit: a minute's window, and a table that forgets the
senders who went quiet."""

from __future__ import annotations

from crm import inbound_smtp
from crm.inbound_smtp import SenderRate


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_sender_gets_its_quota_a_minute_whatever_its_case() -> None:
    clock = Clock()
    rate = SenderRate(2, clock)
    for _ in range(2):
        assert rate.allows("Ana@Example.com")
        rate.count("ana@example.com")

    assert not rate.allows("ANA@example.com")
    assert rate.allows("bo@example.com")
    clock.now = 61.0
    assert rate.allows("ana@example.com")


def test_senders_quiet_for_a_window_are_forgotten_when_the_table_is_full(
    monkeypatch: object,
) -> None:
    clock = Clock()
    rate = SenderRate(5, clock)
    inbound_smtp.MAX_SENDERS = 3
    try:
        for n in range(4):
            rate.count(f"old{n}@example.com")
        clock.now = 120.0
        rate.count("new@example.com")

        assert rate.allows("new@example.com")
        assert set(rate._seen) == {"new@example.com"}
    finally:
        inbound_smtp.MAX_SENDERS = 10000
