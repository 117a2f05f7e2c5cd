"""Customer service: companies the agency serves, their hierarchy, team, billing details, the
contacts linked to them, and their lifecycle. Every write runs in one transaction with its
audit row and domain event."""

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

from db.contacts import Contact
from db.customers import Customer as Customer
from db.customers import CustomerContact as CustomerContact
from domain import tags
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.custom_field_queries import (
    CustomFieldOrdering,
    records_page,
)
from domain.custom_field_values import custom_values
from domain.errors import DomainError, input_errors
from domain.events import append_event
from domain.field_types import (
    CurrencyCode,
    LongText,
    Name,
    OptionalEmail,
    RequiredName,
    Tags,
    Text,
    input_codes,
)
from domain.lifecycles import apply_event
from domain.lifecycles.customer import CustomerLifecycle
from domain.message_preferences import ConsentSource, customer_preference_changes, save_preferences
from domain.pagination import Ordering, Page
from domain.policies import may_own, rows
from domain.record_changes import record_created, record_transitioned, record_updated
from domain.record_deletion import soft_delete
from domain.record_filters import RecordFilter, filtered
from domain.roles import Access, Resource
from domain.rows import Row, read_rows
from domain.sales_records import locked as locked_row
from domain.sales_records import scoped
from domain.users import assignable_owner

AGGREGATE = "customer"
MAX_HIERARCHY_DEPTH = 20


class CustomerErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_EMAIL = "INVALID_EMAIL"
    PARENT_CYCLE = "PARENT_CYCLE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    GUARD_FAILED = "GUARD_FAILED"
    FORBIDDEN = "FORBIDDEN"
    # from custom field values (domain.custom_field_values.CustomValueCode)
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    NOT_TEXT = "NOT_TEXT"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    NOT_A_DATE = "NOT_A_DATE"
    NOT_A_BOOLEAN = "NOT_A_BOOLEAN"
    NOT_A_CHOICE = "NOT_A_CHOICE"


_PYDANTIC_CODES = input_codes(CustomerErrorCode)

BillingAddress = Annotated[LongText, StringConstraints(max_length=2_000)]
TaxId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)]
PaymentTermsDays = Annotated[int | None, Field(ge=0, le=365)]
MAX_BILLING_UNITS = 20


class BillingUnit(BaseModel):
    """A part of the customer invoiced on its own (a branch, a department, a cost centre),
    with its own billing contact and finance details; empty ones fall back to the customer's."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredName
    billing_email: OptionalEmail = ""
    billing_address: BillingAddress = ""
    tax_id: TaxId = ""
    currency: CurrencyCode = ""
    payment_terms_days: PaymentTermsDays = None
    purchase_order: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""


def _distinct_unit_names(units: list[BillingUnit]) -> list[BillingUnit]:
    names = [unit.name.casefold() for unit in units]
    if len(set(names)) != len(names):
        raise ValueError("Billing units need distinct names.")
    return units


BillingUnits = Annotated[
    list[BillingUnit], Field(max_length=MAX_BILLING_UNITS), AfterValidator(_distinct_unit_names)
]


class CustomerChanges(BaseModel):
    """Fields a caller may set; on update only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredName
    legal_name: Text = ""
    website: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=300, pattern=r"^(https?://\S+)?$")
    ] = ""
    industry: Name = ""
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    rating: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    tags: Tags = []
    parent_id: UUID | None = None
    owner_id: UUID | None = None
    operations_user_id: UUID | None = None
    services: Annotated[list[Text], Field(max_length=50)] = []
    billing_email: OptionalEmail = ""
    billing_address: BillingAddress = ""
    tax_id: TaxId = ""
    currency: CurrencyCode = ""
    payment_terms_days: PaymentTermsDays = None
    billing_units: BillingUnits = []


class CustomerFilter(RecordFilter):
    owner_id: UUID | None = None
    parent_id: UUID | None = None


class CustomerOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"


NEWEST_FIRST = Ordering(CustomerOrderField.CREATED_AT, descending=True)


@dataclass(frozen=True, slots=True)
class ContactLink:
    contact_id: UUID
    role: str
    is_primary: bool


def snapshot(customer: Customer) -> dict[str, Any]:
    """The customer's fields as JSON values, for audit rows and event payloads."""
    values = {
        name: getattr(customer, name)
        for name in CustomerChanges.model_fields
        if name not in ("parent_id", "owner_id", "operations_user_id")
    }
    for name in ("parent_id", "owner_id", "operations_user_id"):
        value = getattr(customer, name)
        values[name] = str(value) if value else None
    return {"id": str(customer.id), "status": customer.status, **values}


def _parse(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    try:
        if partial:
            merged = CustomerChanges.model_validate({"name": "-", **data})
            return merged.model_dump(include=set(data))
        return CustomerChanges.model_validate(data).model_dump()
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, CustomerErrorCode.INVALID) from exc


def _scoped(actor: Actor, access: Access = Access.READ) -> Any:
    return scoped(Customer, actor, access)


def _not_found(customer_id: UUID, field: str = "id") -> DomainError:
    return DomainError(CustomerErrorCode.NOT_FOUND, f"No customer with id {customer_id}.", field)


async def _check_people(actor: Actor, fields: dict[str, Any]) -> None:
    if "owner_id" in fields and not may_own(actor, Resource.SALES_RECORDS, fields["owner_id"]):
        raise DomainError(
            CustomerErrorCode.FORBIDDEN, "You may not give customers to that owner.", "owner_id"
        )
    for field in ("owner_id", "operations_user_id"):
        if field in fields and not await assignable_owner(actor, fields[field]):
            raise DomainError(CustomerErrorCode.NOT_FOUND, "No active user with that id.", field)


async def _check_parent(
    actor: Actor, customer_id: UUID | None, parent_id: UUID | None, conn: BaseDBAsyncClient
) -> None:
    """The parent must be a customer the actor can see, and not the customer or below it."""
    seen = 0
    current = parent_id
    while current is not None:
        if current == customer_id:
            raise DomainError(
                CustomerErrorCode.PARENT_CYCLE,
                "A customer cannot be its own ancestor.",
                "parent_id",
            )
        parent = await _scoped(actor).using_db(conn).get_or_none(id=current)
        if parent is None:
            raise _not_found(current, "parent_id")
        seen += 1
        if seen > MAX_HIERARCHY_DEPTH:
            raise DomainError(
                CustomerErrorCode.OUT_OF_RANGE,
                f"Company hierarchies are at most {MAX_HIERARCHY_DEPTH} levels deep.",
                "parent_id",
            )
        current = parent.parent_id


async def get_customer(actor: Actor, customer_id: UUID) -> Customer:
    customer: Customer | None = await _scoped(actor).get_or_none(id=customer_id)
    if customer is None:
        raise _not_found(customer_id)
    return customer


async def list_customers(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering | CustomFieldOrdering = NEWEST_FIRST,
) -> Page[Customer]:
    query = _scoped(actor)
    if criteria is not None:
        try:
            where = CustomerFilter.model_validate(criteria)
        except ValidationError as exc:
            raise input_errors(exc, _PYDANTIC_CODES, CustomerErrorCode.INVALID) from exc
        query = await filtered(query, actor, AGGREGATE, where, exact={"owner_id", "parent_id"})
    return await records_page(actor, AGGREGATE, query, ordering, first, after)


async def create_customer_in(
    actor: Actor, data: dict[str, Any], conn: BaseDBAsyncClient
) -> Customer:
    """Create inside the caller's transaction (contact conversion uses it)."""
    data, custom = await custom_values(actor, AGGREGATE, data, creating=True, conn=conn)
    data, preferences = customer_preference_changes(data, CustomerErrorCode)
    fields = _parse(data, partial=False)
    if "owner_id" not in data:
        fields["owner_id"] = actor.user_id
    await _check_people(actor, fields)
    await _check_parent(actor, None, fields["parent_id"], conn)
    customer = Customer(agency_id=actor.agency_id, **fields)
    customer.tags = await tags.tag_record(actor, AGGREGATE, customer.id, customer.tags, conn)
    await customer.save(using_db=conn)
    after = {**snapshot(customer), **await custom.write(actor, customer.id, conn)}
    await record_created(actor, AGGREGATE, str(customer.id), after, conn)
    if preferences:
        await save_preferences(
            actor, AGGREGATE, str(customer.id), preferences, ConsentSource.AGENT, conn
        )
    return customer


async def create_customer(actor: Actor, data: dict[str, Any]) -> Customer:
    async with in_transaction() as conn:
        return await create_customer_in(actor, data, conn)


async def update_customer(actor: Actor, customer_id: UUID, data: dict[str, Any]) -> Customer:
    data, custom = await custom_values(actor, AGGREGATE, data, creating=False)
    data, preferences = customer_preference_changes(data, CustomerErrorCode)
    fields = _parse(data, partial=True)
    await _check_people(actor, fields)
    async with in_transaction() as conn:
        customer = await locked(actor, customer_id, conn)
        if "parent_id" in fields:
            await _check_parent(actor, customer.id, fields["parent_id"], conn)
        if "tags" in fields:
            fields["tags"] = await tags.tag_record(
                actor, AGGREGATE, customer.id, fields["tags"], conn
            )
        before = {**snapshot(customer), **await custom.current(customer.id, conn)}
        customer.update_from_dict(fields)
        await customer.save(using_db=conn)
        after = {**snapshot(customer), **await custom.write(actor, customer.id, conn)}
        old, new = changed_fields(before, after)
        if new:
            await record_updated(actor, AGGREGATE, str(customer.id), old, new, conn)
        if preferences:
            await save_preferences(
                actor, AGGREGATE, str(customer.id), preferences, ConsentSource.AGENT, conn
            )
    return customer


async def delete_customer(actor: Actor, customer_id: UUID) -> Customer:
    """Soft delete: kept for audit, gone from every query."""
    async with in_transaction() as conn:
        customer = await locked(actor, customer_id, conn)
        await soft_delete(actor, customer, AGGREGATE, snapshot, conn)
    return customer


async def transition_customer(actor: Actor, customer_id: UUID, event: str) -> Customer:
    """Apply a lifecycle event; activation needs a primary contact and billing details."""
    async with in_transaction() as conn:
        customer = await locked(actor, customer_id, conn)
        before = customer.status
        facts = {
            "has_primary_contact": await CustomerContact.filter(
                customer_id=customer.id, is_primary=True
            )
            .using_db(conn)
            .exists(),
            "has_billing_details": bool(customer.billing_email and customer.billing_address),
        }
        await apply_event(
            CustomerLifecycle, customer, event, CustomerErrorCode.INVALID_TRANSITION, facts=facts
        )
        await customer.save(using_db=conn, update_fields=["status", "updated_at"])
        change = {"event": event, "from": before, "to": customer.status}
        audited = ({"status": before}, {"status": customer.status})
        await record_transitioned(actor, AGGREGATE, str(customer.id), event, audited, change, conn)
    return customer


async def link_contact_in(
    actor: Actor,
    customer: Customer,
    contact_id: UUID,
    role: str,
    is_primary: bool,
    conn: BaseDBAsyncClient,
) -> CustomerContact:
    """Link a contact the actor can see to the customer (or change its role); one primary."""
    role = role.strip()[:50]
    contact = (
        await Contact.filter(
            rows(actor, Resource.SALES_RECORDS, Access.READ), deleted_at__isnull=True, id=contact_id
        )
        .using_db(conn)
        .exists()
    )
    if not contact:
        raise DomainError(CustomerErrorCode.NOT_FOUND, "No such contact.", "contact_id")
    if is_primary:
        await (
            CustomerContact.filter(customer_id=customer.id, is_primary=True)
            .using_db(conn)
            .update(is_primary=False)
        )
    link = (
        await CustomerContact.filter(customer_id=customer.id, contact_id=contact_id)
        .using_db(conn)
        .first()
    )
    if link is None:
        link = CustomerContact(
            agency_id=actor.agency_id, customer_id=customer.id, contact_id=contact_id
        )
    link.role, link.is_primary = role, is_primary
    await link.save(using_db=conn)
    after = {"contact_id": str(contact_id), "role": role, "is_primary": is_primary}
    await record_audit(actor, AGGREGATE, str(customer.id), "link_contact", {}, after, conn)
    await append_event(actor, "customer.contact_linked", AGGREGATE, str(customer.id), after, conn)
    return link


async def link_contact(
    actor: Actor, customer_id: UUID, contact_id: UUID, role: str, is_primary: bool
) -> Customer:
    async with in_transaction() as conn:
        customer = await locked(actor, customer_id, conn)
        await link_contact_in(actor, customer, contact_id, role, is_primary, conn)
    return customer


async def unlink_contact(actor: Actor, customer_id: UUID, contact_id: UUID) -> Customer:
    async with in_transaction() as conn:
        customer = await locked(actor, customer_id, conn)
        removed = (
            await CustomerContact.filter(customer_id=customer.id, contact_id=contact_id)
            .using_db(conn)
            .delete()
        )
        if not removed:
            raise DomainError(
                CustomerErrorCode.NOT_FOUND, "That contact is not linked.", "contact_id"
            )
        before = {"contact_id": str(contact_id)}
        await record_audit(actor, AGGREGATE, str(customer.id), "unlink_contact", before, {}, conn)
        await append_event(
            actor, "customer.contact_unlinked", AGGREGATE, str(customer.id), before, conn
        )
    return customer


async def locked(actor: Actor, customer_id: UUID, conn: BaseDBAsyncClient) -> Customer:
    """Read for writing (row-locked); visible but not changeable is FORBIDDEN."""
    return await locked_row(Customer, actor, customer_id, conn, CustomerErrorCode, "customer")


# Batch loads for DataLoaders: one query per batch, scoped like every other read.


class CustomerRow(Row[Customer]):
    """A customer read for display (DataLoaders): `Customer`'s attributes, read only."""

    model = Customer


async def customers_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, CustomerRow]:
    """Batch load for DataLoaders, scoped like every other read; rows (`domain.rows`)."""
    found = await read_rows(_scoped(actor).filter(id__in=list(ids)), CustomerRow)
    return {customer.id: customer for customer in found}


async def links_of_customers(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, list[ContactLink]]:
    """Contact links per customer (primary first), only to contacts the actor can see."""
    links = await CustomerContact.filter(
        agency_id=actor.agency_id, customer_id__in=list(ids)
    ).order_by("-is_primary", "created_at")
    visible = _uuids(
        await Contact.filter(
            rows(actor, Resource.SALES_RECORDS, Access.READ),
            deleted_at__isnull=True,
            id__in=[link.contact_id for link in links],
        ).values_list("id", flat=True)
    )
    grouped: dict[UUID, list[ContactLink]] = {}
    for link in links:
        if link.contact_id in visible:
            grouped.setdefault(link.customer_id, []).append(
                ContactLink(link.contact_id, link.role, link.is_primary)
            )
    return grouped


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _uuids(values: Sequence[Any]) -> set[UUID]:
    return {_uuid(value) for value in values}


async def customers_of_contacts(
    actor: Actor, contact_ids: Sequence[UUID]
) -> dict[UUID, CustomerRow]:
    """Each contact's customer (its primary link first), if the actor can see that customer:
    the links, then the customers read as rows in the same statement that checks their scope."""
    links = (
        await CustomerContact.filter(agency_id=actor.agency_id, contact_id__in=list(contact_ids))
        .order_by("-is_primary", "created_at")
        .values_list("contact_id", "customer_id")
    )
    first: dict[UUID, UUID] = {}
    for contact_id, customer_id in links:
        first.setdefault(_uuid(contact_id), _uuid(customer_id))
    visible = await customers_by_ids(actor, list(set(first.values())))
    return {
        contact: visible[customer] for contact, customer in first.items() if customer in visible
    }
