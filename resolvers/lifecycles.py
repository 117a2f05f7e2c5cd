"""Lifecycle introspection: every machine's graph, so client apps never hard-code it."""

from __future__ import annotations

from domain.lifecycles import Lifecycle
from domain.lifecycles.registry import lifecycle as find_lifecycle
from domain.lifecycles.registry import lifecycles as all_lifecycles


def lifecycles() -> list[Lifecycle]:
    return all_lifecycles()


def lifecycle(record_type: str) -> Lifecycle | None:
    return find_lifecycle(record_type)
