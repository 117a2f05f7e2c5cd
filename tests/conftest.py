"""Fixtures shared by every test layer; each starts a real component (see tests/fixtures)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from argon2.profiles import CHEAPEST

from domain.passwords import use_parameters

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.smtp",
    "tests.fixtures.temporal",
    "tests.fixtures.flows",
    "tests.fixtures.webhook_receiver",
    "tests.fixtures.browser",
    "tests.fixtures.imap",
    "tests.fixtures.hang_report",
    "tests.fixtures.cards",
]

TEMPORAL_FIXTURES = {"temporal_env", "temporal_dev_env", "own_dev_server"}


def pytest_configure(config: pytest.Config) -> None:
    """Still argon2id, at its cheapest cost: hundreds of sign-ins stay fast. Production keeps
    argon2-cffi's RFC 9106 default (tests/unit/test_passwords.py checks that)."""
    use_parameters(CHEAPEST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers they start, so `-m "not postgres"` and the like select."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_source") == "postgres":
            item.add_marker(pytest.mark.postgres)
        if TEMPORAL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.temporal)


MEASURED = "measured"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What tests measured (`record_property("measured", text)`: detection precision and
    recall...), in a section of the run's summary, so a run reports it without `-s`."""
    lines = [
        str(value)
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        for name, value in getattr(report, "user_properties", ())
        if name == MEASURED
    ]
    if lines:
        terminalreporter.section("measurements")
        for line in lines:
            terminalreporter.write_line(line)


def running_event_feeds() -> set[asyncio.Task[object]]:
    """The event-feed tasks (`domain.live_events`) of this loop that have not ended."""
    return {
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("event-feed-") and not task.done()
    }


@pytest.fixture(autouse=True)
async def _no_event_feed_outlives_its_test() -> AsyncIterator[None]:
    """A feed left running reads its agency's events for the rest of the run, from a database
    that is gone: the leak of a subscription that never cleaned up. Cancelled feeds get a
    second to end."""
    before = running_event_feeds()
    yield
    if left := running_event_feeds() - before:
        await asyncio.wait(left, timeout=1.0)
    still = sorted(task.get_name() for task in running_event_feeds() - before)
    assert not still, f"event feeds still running after the test: {still}"
