"""Authorization, in one place: which rows an actor may read or change.

Services build every query from `rows(...)`, so no query can return another agency's rows
or rows outside the actor's scope. Rows outside the scope are NOT_FOUND (their existence is
not leaked); a role with no access at all to a kind of data is FORBIDDEN.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.expressions import Q, Subquery

from db.customers import Customer
from domain.actors import Actor, ApiScope
from domain.errors import DomainError
from domain.roles import Access, Resource, RowScope, row_scope


class AccessErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"


# What an API key's scopes open: integrators work with the sales data, agency-wide.
_API_KEY_ACCESS: dict[Resource, dict[Access, ApiScope]] = {
    Resource.SALES_RECORDS: {Access.READ: ApiScope.READ, Access.WRITE: ApiScope.WRITE},
    # Tickets come in through the API too (channel API): a help form, a monitoring system.
    Resource.TICKETS: {Access.READ: ApiScope.READ, Access.WRITE: ApiScope.WRITE},
    # A nightly sync from another system uploads a file like a person does.
    Resource.IMPORTS: {Access.READ: ApiScope.READ, Access.WRITE: ApiScope.WRITE},
}


def scope(actor: Actor, resource: Resource, access: Access) -> RowScope:
    if actor.api_scopes is not None:
        needed = _API_KEY_ACCESS.get(resource, {}).get(access)
        return RowScope.AGENCY if needed in actor.api_scopes else RowScope.NONE
    return row_scope(actor.roles, resource, access)


def forbidden(resource: Resource, access: Access) -> DomainError:
    return DomainError(
        AccessErrorCode.FORBIDDEN,
        f"Your role may not {access.value} {resource.value.replace('_', ' ')}.",
    )


def require(actor: Actor, resource: Resource, access: Access) -> RowScope:
    """The actor's scope, or FORBIDDEN if it has none."""
    granted = scope(actor, resource, access)
    if granted is RowScope.NONE:
        raise forbidden(resource, access)
    return granted


def rows(
    actor: Actor,
    resource: Resource,
    access: Access,
    owner_field: str = "owner_id",
    *,
    by_owner_only: bool = False,
) -> Q:
    """The filter of rows the actor may access: always the agency, narrowed by row scope.

    `by_owner_only` leaves out what is read through another record (a sales person's
    customers' tickets): for summary rows keyed by owner alone, which cannot tell them apart.
    """
    granted = require(actor, resource, access)
    in_agency = Q(agency_id=actor.agency_id)
    if granted is RowScope.AGENCY:
        return in_agency
    narrowed: dict[str, Any] = (
        {f"{owner_field}__in": list(actor.team)}
        if granted is RowScope.TEAM
        else {owner_field: actor.user_id}
    )
    if (
        resource is Resource.TICKETS
        and access is Access.READ
        and actor.user_id is not None
        and not by_owner_only
    ):
        return in_agency & (Q(**narrowed) | _owned_customers_tickets(actor))
    return in_agency & Q(**narrowed)


def _owned_customers_tickets(actor: Actor) -> Q:
    """A person who reads only some tickets (a sales person) also reads, not works, the
    tickets of the customers they own: the relationship manager follows their customers'
    requests."""
    owned = Customer.filter(
        agency_id=actor.agency_id, owner_id=actor.user_id, deleted_at__isnull=True
    ).values("id")
    return Q(customer_id__in=Subquery(owned))


def may_own(actor: Actor, resource: Resource, owner_id: UUID | None) -> bool:
    """May the actor give (or leave) a record of `resource` to `owner_id`?"""
    granted = require(actor, resource, Access.WRITE)
    if granted is RowScope.AGENCY:
        return True
    if granted is RowScope.TEAM:
        return owner_id in actor.team
    return owner_id is not None and owner_id == actor.user_id
