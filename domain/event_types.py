"""Event type patterns, shared by subscription filters and webhook endpoints.

A pattern is an event type (`contact.created`), every event of a record type (`contact.*`)
or everything (`*`). This module imports nothing of the domain: `domain.events` reaches it.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints
from tortoise.expressions import Q

EVENT_TYPE_PATTERN = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")
EventTypePattern = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=80, pattern=EVENT_TYPE_PATTERN)
]


def event_type_matches(patterns: list[str], event_type: str) -> bool:
    """Whether an event type is one of the patterns."""
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def event_type_filter(patterns: list[str]) -> Q:
    """The same patterns as a query filter on `event.type` (at least one pattern)."""
    if "*" in patterns:
        return Q()
    exact = [p for p in patterns if not p.endswith(".*")]
    conditions = [Q(type__in=exact)] if exact else []
    conditions += [Q(type__startswith=p[:-1]) for p in patterns if p.endswith(".*")]
    return Q(*conditions, join_type=Q.OR)
