"""Who is acting: every service call takes an actor, which carries the tenant scope."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Actor:
    """A person, an API key or a flow acting inside one agency.

    `agency_id` scopes every read and write; `id` is what the audit log records.
    """

    agency_id: UUID
    id: str
    request_id: str = ""
