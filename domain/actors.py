"""Who is acting: every service call takes an actor, which carries the tenant and the access."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.roles import Role


class ApiScope(StrEnum):
    """What an integrator's API key may do; keys act agency-wide within their scopes."""

    READ = "read"
    WRITE = "write"
    SUBSCRIBE = "subscribe"


@dataclass(frozen=True, slots=True)
class Actor:
    """A person, an API key, a portal contact or the system (flows) acting inside one agency.

    `agency_id` scopes every read and write; `id` is what the audit log records
    (`user:<uuid>`, `api_key:<uuid>`, `portal:<contact uuid>`, `system:<name>`). `team`
    holds the ids of the users in the actor's org unit and below, for Sales Heads.
    """

    agency_id: UUID
    id: str
    request_id: str = ""
    user_id: UUID | None = None
    roles: frozenset[Role] = frozenset()
    team: frozenset[UUID] = frozenset()
    api_scopes: frozenset[ApiScope] | None = None  # None: not an API key
    session_id: UUID | None = None
    # A customer portal session (`domain.portal`): a contact acting for their customer, with
    # no role, so every staff policy refuses it; only the portal's services serve it.
    portal_customer_id: UUID | None = None
    portal_contact_id: UUID | None = None
    portal_session_id: UUID | None = None

    @property
    def is_api_key(self) -> bool:
        return self.api_scopes is not None

    @property
    def is_portal(self) -> bool:
        return self.portal_customer_id is not None

    @classmethod
    def system(cls, agency_id: UUID, name: str) -> Actor:
        """The actor for work the CRM does by itself (flows, bootstrap): agency-wide admin."""
        return cls(agency_id=agency_id, id=f"system:{name}", roles=frozenset({Role.ADMIN}))
