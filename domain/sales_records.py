"""What every sales record service (contacts, customers, leads, deals, calling tasks) does the
same way: scope queries by row, lock a row for writing, check a new owner.

Each record keeps its own error enum; these helpers take it, so the codes a client sees stay
per record type.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.queryset import QuerySet

from db.tickets import Ticket
from domain.actors import Actor
from domain.errors import DomainError
from domain.policies import may_own, rows, scope
from domain.roles import Access, Resource, RowScope
from domain.users import assignable_owner

M = TypeVar("M", bound=Model)


def scoped(
    model: type[M],
    actor: Actor,
    access: Access = Access.READ,
    owner_field: str = "owner_id",
    resource: Resource = Resource.SALES_RECORDS,
) -> QuerySet[M]:
    """Rows of `model` the actor may read (or change), never soft-deleted ones."""
    return model.filter(rows(actor, resource, access, owner_field), deleted_at__isnull=True)


async def ticket_visible(actor: Actor, ticket_id: UUID, conn: BaseDBAsyncClient) -> bool:
    """May the actor read the ticket? A calling task or a meeting is linked only to one it
    sees (an actor with no access to tickets sees none)."""
    if scope(actor, Resource.TICKETS, Access.READ) is RowScope.NONE:
        return False
    tickets = scoped(Ticket, actor, Access.READ, "assignee_id", Resource.TICKETS)
    return await tickets.using_db(conn).filter(id=ticket_id).exists()


async def locked(
    model: type[M],
    actor: Actor,
    record_id: UUID,
    conn: BaseDBAsyncClient,
    codes: type[StrEnum],
    label: str,
    owner_field: str = "owner_id",
    resource: Resource = Resource.SALES_RECORDS,
) -> M:
    """Read a row for writing, row-locked on PostgreSQL so concurrent writes serialise.

    A row the actor can see but not change is FORBIDDEN; one it cannot see is NOT_FOUND.
    """
    query = scoped(model, actor, Access.WRITE, owner_field, resource).using_db(conn)
    found: M | None = await query.select_for_update().get_or_none(id=record_id)
    if found is not None:
        return found
    if (
        await scoped(model, actor, Access.READ, owner_field, resource)
        .using_db(conn)
        .filter(id=record_id)
        .exists()
    ):
        raise DomainError(codes("FORBIDDEN"), f"You may not change this {label}.", "id")
    raise DomainError(codes("NOT_FOUND"), f"No {label} with id {record_id}.", "id")


async def check_links(
    actor: Actor, links: dict[str, tuple[type[Model], UUID | None]], codes: type[StrEnum]
) -> None:
    """A record may name only records the actor can see: `{field: (model, id)}`, None skipped.

    An invisible one is NOT_FOUND on its field, so its existence is not leaked.
    """
    for field, (model, record_id) in links.items():
        if record_id is not None and not await scoped(model, actor).filter(id=record_id).exists():
            label = model._meta.db_table.replace("_", " ")
            raise DomainError(codes("NOT_FOUND"), f"No such {label}.", field)


async def check_owner(
    actor: Actor, owner_id: UUID | None, codes: type[StrEnum], plural: str, field: str = "owner_id"
) -> None:
    """The owner must be someone the actor may hand records to, active in the actor's agency."""
    if not may_own(actor, Resource.SALES_RECORDS, owner_id):
        raise DomainError(codes("FORBIDDEN"), f"You may not give {plural} to that person.", field)
    if not await assignable_owner(actor, owner_id):
        raise DomainError(codes("NOT_FOUND"), "No active user with that id.", field)
