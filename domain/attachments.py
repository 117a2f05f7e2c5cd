"""The records notes and documents attach to (contacts, customers, leads, deals and tickets),
and the rule for them:
whoever may read the record reads what is attached to it, whoever may change the record
changes it. The checks are the records' own (`domain.sales_records`), so they cannot drift.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from db.agencies import Agency
from db.card_scans import CardScan
from db.contacts import Contact
from db.customers import Customer
from db.deals import Deal
from db.leads import Lead
from db.tickets import Ticket
from db.users import User
from domain.actors import Actor
from domain.errors import DomainError
from domain.policies import scope
from domain.roles import Access, Resource, RowScope
from domain.sales_records import locked, scoped

# Record type (as in events and audit rows) -> its model.
ATTACHABLE: dict[str, type[Model]] = {
    "contact": Contact,
    "customer": Customer,
    "lead": Lead,
    "deal": Deal,
    "ticket": Ticket,
    "card_scan": CardScan,  # its photo (no notes: their resolvers take sales records)
}
# Records not under the sales records' rule: (resource, the column row scope follows).
_OWN_RULES: dict[str, tuple[Resource, str]] = {"ticket": (Resource.TICKETS, "assignee_id")}


def _rule(record_type: str) -> tuple[Resource, str]:
    return _OWN_RULES.get(record_type, (Resource.SALES_RECORDS, "owner_id"))


def _model(record_type: str, codes: type[StrEnum]) -> type[Model]:
    model = ATTACHABLE.get(record_type)
    if model is None:
        raise DomainError(codes("NOT_FOUND"), f"Nothing can be attached to a {record_type}.")
    return model


# Documents (its logo) may also be on the agency itself: everyone in it reads them, admins
# change them. Notes are not (their resolvers take sales records only).
AGENCY = "agency"


# Documents (their picture) may be on a user: everyone in the agency reads them, the user
# and admins change them.
USER = "user"


async def _user_access(
    actor: Actor, record_id: UUID, codes: type[StrEnum], field: str, write: bool
) -> None:
    if not await User.filter(id=record_id, agency_id=actor.agency_id).exists():
        raise DomainError(codes("NOT_FOUND"), "No such user.", field)
    admin = scope(actor, Resource.USERS, Access.WRITE) is RowScope.AGENCY
    if write and actor.user_id != record_id and not admin:
        raise DomainError(codes("FORBIDDEN"), "Only the user and admins change their files.", field)


def _agency_access(
    actor: Actor, record_id: UUID, codes: type[StrEnum], field: str, write: bool
) -> None:
    if record_id != actor.agency_id:
        raise DomainError(codes("NOT_FOUND"), "No such agency.", field)
    if write and scope(actor, Resource.ORGANISATION, Access.WRITE) is not RowScope.AGENCY:
        raise DomainError(codes("FORBIDDEN"), "Only admins change the agency's files.", field)


async def check_readable(
    actor: Actor, record_type: str, record_id: UUID, codes: type[StrEnum], field: str = "record_id"
) -> None:
    """NOT_FOUND unless the actor may read the record (FORBIDDEN if its role reads none)."""
    if record_type == AGENCY:
        _agency_access(actor, record_id, codes, field, write=False)
        return
    if record_type == USER:
        await _user_access(actor, record_id, codes, field, write=False)
        return
    model = _model(record_type, codes)
    resource, owner_field = _rule(record_type)
    if (
        not await scoped(model, actor, Access.READ, owner_field, resource)
        .filter(id=record_id)
        .exists()
    ):
        raise DomainError(codes("NOT_FOUND"), f"No {record_type} with id {record_id}.", field)


async def check_writable(
    actor: Actor, record_type: str, record_id: UUID, codes: type[StrEnum], field: str = "record_id"
) -> None:
    """Without a lock, for failing fast (before an upload is streamed): FORBIDDEN if the actor
    sees the record but may not change it, NOT_FOUND if it does not see it."""
    if record_type == AGENCY:
        _agency_access(actor, record_id, codes, field, write=True)
        return
    if record_type == USER:
        await _user_access(actor, record_id, codes, field, write=True)
        return
    model = _model(record_type, codes)
    resource, owner_field = _rule(record_type)
    if (
        await scoped(model, actor, Access.WRITE, owner_field, resource)
        .filter(id=record_id)
        .exists()
    ):
        return
    await check_readable(actor, record_type, record_id, codes, field)
    raise DomainError(codes("FORBIDDEN"), f"You may not change this {record_type}.", field)


async def lock_record(
    actor: Actor,
    record_type: str,
    record_id: UUID,
    conn: BaseDBAsyncClient,
    codes: type[StrEnum],
    field: str = "record_id",
) -> None:
    """Lock the record for writing (what is attached changes with it); the record's own
    FORBIDDEN / NOT_FOUND otherwise, on `field`."""
    if record_type == AGENCY:
        _agency_access(actor, record_id, codes, field, write=True)
        await Agency.filter(id=record_id).using_db(conn).select_for_update().first()
        return
    if record_type == USER:
        await _user_access(actor, record_id, codes, field, write=True)
        await User.filter(id=record_id).using_db(conn).select_for_update().first()
        return
    model = _model(record_type, codes)
    try:
        resource, owner_field = _rule(record_type)
        await locked(model, actor, record_id, conn, codes, record_type, owner_field, resource)
    except DomainError as exc:
        raise DomainError(exc.code, exc.message, field) from exc


async def check_attached_readable(
    actor: Actor, record_type: str, record_id: UUID, not_found: DomainError
) -> None:
    """For a note or document: its own NOT_FOUND (`not_found`) when its record is out of the
    actor's row scope; a role that reads no sales records at all stays FORBIDDEN."""
    try:
        await check_readable(actor, record_type, record_id, type(not_found.code))
    except DomainError as exc:
        if str(exc.code) == "NOT_FOUND":
            raise not_found from exc
        raise
