"""Contact service: create, read, list, update, soft-delete and move contacts through the lifecycle.

Every write runs in one transaction with its audit row and domain event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.contacts import Contact as Contact
from db.customers import Customer
from domain import customers, tags
from domain.actors import Actor
from domain.audit import changed_fields
from domain.contact_behaviour import watch_score
from domain.custom_field_queries import (
    CustomFieldOrdering,
    records_page,
)
from domain.custom_field_values import custom_values
from domain.errors import DomainError, input_errors
from domain.field_types import (
    Address,
    Email,
    LongText,
    Name,
    Phone,
    Tags,
    Text,
    address_snapshot,
    distinct,
    input_codes,
)
from domain.lead_assignment import contact_facts, owner_by_rules, tell_reassigned
from domain.lifecycles import apply_event
from domain.lifecycles.contact import ContactLifecycle
from domain.pagination import Ordering, Page
from domain.record_changes import record_created, record_transitioned, record_updated
from domain.record_deletion import soft_delete
from domain.record_filters import RecordFilter, filtered
from domain.roles import Access
from domain.rows import Row, read_rows
from domain.sales_records import check_owner, locked, scoped

AGGREGATE = "contact"
CONVERT = "convert"


class ContactErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    FORBIDDEN = "FORBIDDEN"
    # from the customer a conversion creates or links
    PARENT_CYCLE = "PARENT_CYCLE"
    GUARD_FAILED = "GUARD_FAILED"
    # from custom field values (domain.custom_field_values.CustomValueCode)
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    NOT_TEXT = "NOT_TEXT"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    NOT_A_DATE = "NOT_A_DATE"
    NOT_A_BOOLEAN = "NOT_A_BOOLEAN"
    NOT_A_CHOICE = "NOT_A_CHOICE"


_PYDANTIC_CODES = input_codes(ContactErrorCode)


class ContactChanges(BaseModel):
    """Fields a caller may set; on update only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    first_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    last_name: Name = ""
    emails: Annotated[list[Email], Field(max_length=10), AfterValidator(distinct)] = []
    phones: Annotated[list[Phone], Field(max_length=10), AfterValidator(distinct)] = []
    company_name: Text = ""
    job_title: Text = ""
    address: Address = Address()
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    tags: Tags = []
    owner_id: UUID | None = None
    notes: LongText = ""


class ContactOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    COMPANY_NAME = "company_name"


class ContactFilter(RecordFilter):
    owner_id: UUID | None = None


NEWEST_FIRST = Ordering(ContactOrderField.CREATED_AT, descending=True)


class ContactRow(Row[Contact]):
    """A contact read for display (pages and DataLoaders): `Contact`'s attributes, read only."""

    model = Contact


def snapshot(contact: Contact) -> dict[str, Any]:
    """The contact's fields as JSON values, for audit rows and event payloads."""
    return {
        "id": str(contact.id),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "emails": list(contact.emails),
        "phones": list(contact.phones),
        "company_name": contact.company_name,
        "job_title": contact.job_title,
        "address": address_snapshot(contact),
        "source": contact.source,
        "tags": list(contact.tags),
        "owner_id": str(contact.owner_id) if contact.owner_id else None,
        "notes": contact.notes,
        "status": contact.status,
    }


def _parse(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    """Validate input; on update, validate only the fields given (first_name stays required)."""
    try:
        if partial:
            merged = ContactChanges.model_validate({"first_name": "-", **data})
            return merged.model_dump(include=set(data))
        return ContactChanges.model_validate(data).model_dump()
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, ContactErrorCode.INVALID) from exc


def _columns(fields: dict[str, Any]) -> dict[str, Any]:
    """Flatten the address into its columns."""
    columns = {k: v for k, v in fields.items() if k != "address"}
    if "address" in fields:
        columns.update(fields["address"])
    return columns


def _scoped(actor: Actor, access: Access = Access.READ) -> Any:
    return scoped(Contact, actor, access)


async def _check_owner(actor: Actor, owner_id: UUID | None) -> None:
    await check_owner(actor, owner_id, ContactErrorCode, "contacts")


def _not_found(contact_id: UUID) -> DomainError:
    return DomainError(ContactErrorCode.NOT_FOUND, f"No contact with id {contact_id}.", "id")


async def get_contact(actor: Actor, contact_id: UUID) -> Contact:
    contact: Contact | None = await _scoped(actor).get_or_none(id=contact_id)
    if contact is None:
        raise _not_found(contact_id)
    return contact


async def contact_with_address(agency_id: UUID, address: str) -> Contact | None:
    """The earliest live contact with the address among its emails (case aside)."""
    address = address.strip().lower()
    candidates = await Contact.filter(
        agency_id=agency_id, deleted_at__isnull=True, search_text__contains=address
    ).order_by("created_at", "id")
    for contact in candidates:
        if address in (known.strip().lower() for known in contact.emails):
            return contact
    return None


async def contact_with_phone(agency_id: UUID, phone: str) -> Contact | None:
    """The earliest live contact with the phone (E.164, as contacts store them)."""
    candidates = await Contact.filter(
        Contact.matching(phone), agency_id=agency_id, deleted_at__isnull=True
    ).order_by("created_at", "id")
    for contact in candidates:
        if phone in contact.phones:
            return contact
    return None


async def list_contacts(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering | CustomFieldOrdering = NEWEST_FIRST,
) -> Page[Contact]:
    query = await _listed(actor, criteria)
    return await records_page(actor, AGGREGATE, query, ordering, first, after)


async def list_contact_rows(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering | CustomFieldOrdering = NEWEST_FIRST,
) -> Page[ContactRow]:
    """`list_contacts` as rows (`domain.rows`): the API's list, which only reads them."""
    query = await _listed(actor, criteria)
    return await records_page(actor, AGGREGATE, query, ordering, first, after, ContactRow)  # type: ignore[return-value]


async def _listed(actor: Actor, criteria: dict[str, Any] | None) -> Any:
    """The contacts the actor may read that match `criteria`, as a query."""
    query = _scoped(actor)
    if criteria is None:
        return query
    try:
        where = ContactFilter.model_validate(criteria)
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, ContactErrorCode.INVALID) from exc
    return await filtered(query, actor, AGGREGATE, where, exact={"owner_id"})


async def create_contact(actor: Actor, data: dict[str, Any]) -> Contact:
    """A new contact, owned by its creator unless another owner is given; one left without an
    owner (an API key's, inbound mail's, a sign-up's) gets one by the assignment rules."""
    data, custom = await custom_values(actor, AGGREGATE, data, creating=True)
    fields = _parse(data, partial=False)
    if "owner_id" not in data:
        fields["owner_id"] = actor.user_id
    await _check_owner(actor, fields["owner_id"])
    async with in_transaction() as conn:
        if fields["owner_id"] is None:
            fields["owner_id"] = await owner_by_rules(actor.agency_id, contact_facts(fields), conn)
        contact = Contact(agency_id=actor.agency_id, **_columns(fields))
        contact.tags = await tags.tag_record(actor, AGGREGATE, contact.id, contact.tags, conn)
        await contact.save(using_db=conn)
        after = {**snapshot(contact), **await custom.write(actor, contact.id, conn)}
        await record_created(actor, AGGREGATE, str(contact.id), after, conn)
        await watch_score(actor.agency_id, contact.id, conn)
    return contact


async def update_contact(actor: Actor, contact_id: UUID, data: dict[str, Any]) -> Contact:
    data, custom = await custom_values(actor, AGGREGATE, data, creating=False)
    fields = _parse(data, partial=True)
    if "owner_id" in fields:
        await _check_owner(actor, fields["owner_id"])
    async with in_transaction() as conn:
        contact = await _locked(actor, contact_id, conn)
        if "tags" in fields:
            fields["tags"] = await tags.tag_record(
                actor, AGGREGATE, contact.id, fields["tags"], conn
            )
        before = {**snapshot(contact), **await custom.current(contact.id, conn)}
        contact.update_from_dict(_columns(fields))
        await contact.save(using_db=conn)
        after = {**snapshot(contact), **await custom.write(actor, contact.id, conn)}
        old, new = changed_fields(before, after)
        if new:
            await record_updated(actor, AGGREGATE, str(contact.id), old, new, conn)
            await watch_score(actor.agency_id, contact.id, conn)
        if "owner_id" in new:
            label = f"Contact {contact.full_name}"
            was, now = (UUID(o) if o else None for o in (old["owner_id"], new["owner_id"]))
            await tell_reassigned(actor, AGGREGATE, contact.id, label, was, now, conn)
    return contact


async def delete_contact(actor: Actor, contact_id: UUID) -> Contact:
    """Soft delete: the row stays for audit and undo, but no query returns it."""
    async with in_transaction() as conn:
        contact = await _locked(actor, contact_id, conn)
        await soft_delete(actor, contact, AGGREGATE, snapshot, conn)
    return contact


async def transition_contact(actor: Actor, contact_id: UUID, event: str) -> Contact:
    """Apply a lifecycle event; status, audit row and event commit together or not at all.

    CONVERT converts with defaults: a new customer named after the contact's company.
    """
    if event == CONVERT:
        return (await convert_contact(actor, contact_id)).contact
    async with in_transaction() as conn:
        contact = await _locked(actor, contact_id, conn)
        await _transition(actor, contact, event, conn)
    return contact


@dataclass(frozen=True, slots=True)
class Conversion:
    contact: Contact
    customer: Customer


async def convert_contact(
    actor: Actor,
    contact_id: UUID,
    customer_id: UUID | None = None,
    new_customer: dict[str, Any] | None = None,
) -> Conversion:
    """Convert a Hot contact: link it to an existing customer or create one, as its primary
    contact, in the same transaction as the status change."""
    async with in_transaction() as conn:
        contact = await _locked(actor, contact_id, conn)
        # Row locks before the first event: appending an event takes the agency's event lock
        # until commit, so locking a row after it could deadlock with another writer.
        existing = await customers.locked(actor, customer_id, conn) if customer_id else None
        await _transition(actor, contact, CONVERT, conn)
        if existing is not None:
            customer = existing
        else:
            name = contact.company_name or f"{contact.first_name} {contact.last_name}".strip()
            customer = await customers.create_customer_in(
                actor, {"name": name, **(new_customer or {})}, conn
            )
        await customers.link_contact_in(actor, customer, contact.id, "primary", True, conn)
    return Conversion(contact=contact, customer=customer)


async def transition_locked(
    actor: Actor, contact: Contact, event: str, conn: BaseDBAsyncClient
) -> None:
    """Apply a lifecycle event to a contact the caller read and row-locked on `conn` (lead
    scoring does, for contacts crossing its threshold)."""
    await _transition(actor, contact, event, conn)


async def _transition(actor: Actor, contact: Contact, event: str, conn: BaseDBAsyncClient) -> None:
    before = contact.status
    await apply_event(ContactLifecycle, contact, event, ContactErrorCode.INVALID_TRANSITION)
    await contact.save(using_db=conn, update_fields=["status", "updated_at"])
    change = {"event": event, "from": before, "to": contact.status}
    audited = ({"status": before}, {"status": contact.status})
    await record_transitioned(actor, AGGREGATE, str(contact.id), event, audited, change, conn)


async def _locked(actor: Actor, contact_id: UUID, conn: BaseDBAsyncClient) -> Contact:
    """Read for writing (row-locked); visible but not changeable is FORBIDDEN."""
    return await locked(Contact, actor, contact_id, conn, ContactErrorCode, "contact")


async def contacts_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, ContactRow]:
    """Batch load for DataLoaders, scoped like every other read; rows (`domain.rows`)."""
    found = await read_rows(_scoped(actor).filter(id__in=list(ids)), ContactRow)
    return {contact.id: contact for contact in found}
