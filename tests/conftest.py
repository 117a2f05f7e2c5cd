"""Fixtures shared by every test layer; each starts a real component (see tests/fixtures)."""

from __future__ import annotations

import pytest
from argon2.profiles import CHEAPEST

from domain.passwords import use_parameters

pytest_plugins = [
    "tests.fixtures.databases",
    "tests.fixtures.smtp",
    "tests.fixtures.temporal",
    "tests.fixtures.flows",
    "tests.fixtures.webhook_receiver",
]

TEMPORAL_FIXTURES = {"temporal_env", "temporal_dev_env"}


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
