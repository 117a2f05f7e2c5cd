"""Contact service: create, read, list, update, soft-delete and move contacts through the lifecycle.

Every write runs in one transaction with its audit row and domain event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from db.contacts import Contact as Contact
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.errors import DomainError, input_errors
from domain.events import append_event
from domain.lifecycles import apply_event
from domain.lifecycles.contact import ContactLifecycle
from domain.pagination import Ordering, Page, keyset_page
from domain.policies import may_own, rows
from domain.roles import Access, Resource
from domain.users import assignable_owner

AGGREGATE = "contact"


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


_PYDANTIC_CODES: dict[str, StrEnum] = {
    "missing": ContactErrorCode.REQUIRED,
    "string_too_short": ContactErrorCode.REQUIRED,
    "string_too_long": ContactErrorCode.TOO_LONG,
    "too_long": ContactErrorCode.TOO_MANY,
    "greater_than_equal": ContactErrorCode.OUT_OF_RANGE,
    "less_than_equal": ContactErrorCode.OUT_OF_RANGE,
    "invalid_email": ContactErrorCode.INVALID_EMAIL,
    "invalid_phone": ContactErrorCode.INVALID_PHONE,
    "string_pattern_mismatch": ContactErrorCode.INVALID,
}


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PydanticCustomError("invalid_email", "{reason}", {"reason": str(exc)}) from exc


def _phone(value: str) -> str:
    """Phones are stored in E.164 and must carry their country code (+44 ...)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise PydanticCustomError(
            "invalid_phone", "Not a phone number in international form (+<country> <number>)."
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise PydanticCustomError("invalid_phone", "Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_phone)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: Text = ""
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] = ""
    country: Annotated[
        str,
        StringConstraints(strip_whitespace=True, pattern=r"^([A-Za-z]{2})?$"),
        AfterValidator(str.upper),
    ] = ""
    latitude: Annotated[float | None, Field(ge=-90, le=90)] = None
    longitude: Annotated[float | None, Field(ge=-180, le=180)] = None


class ContactChanges(BaseModel):
    """Fields a caller may set; on update only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    first_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    last_name: Name = ""
    emails: Annotated[list[Email], Field(max_length=10), AfterValidator(_distinct)] = []
    phones: Annotated[list[Phone], Field(max_length=10), AfterValidator(_distinct)] = []
    company_name: Text = ""
    job_title: Text = ""
    address: Address = Address()
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    tags: Annotated[list[Tag], Field(max_length=20), AfterValidator(_distinct)] = []
    owner_id: UUID | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000)] = ""


class ContactOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    COMPANY_NAME = "company_name"


class ContactFilter(BaseModel):
    status_in: list[str] | None = None
    owner_id: UUID | None = None
    search: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


NEWEST_FIRST = Ordering(ContactOrderField.CREATED_AT, descending=True)


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
        "address": {
            "street": contact.street,
            "city": contact.city,
            "region": contact.region,
            "postal_code": contact.postal_code,
            "country": contact.country,
            "latitude": contact.latitude,
            "longitude": contact.longitude,
        },
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
    """Contacts the actor may read (or change), never deleted ones."""
    return Contact.filter(rows(actor, Resource.SALES_RECORDS, access), deleted_at__isnull=True)


async def _check_owner(actor: Actor, owner_id: UUID | None) -> None:
    """The owner must be someone the actor may hand records to, in the actor's agency."""
    if not may_own(actor, Resource.SALES_RECORDS, owner_id):
        raise DomainError(
            ContactErrorCode.FORBIDDEN, "You may not give contacts to that owner.", "owner_id"
        )
    if not await assignable_owner(actor, owner_id):
        raise DomainError(ContactErrorCode.NOT_FOUND, "No active user with that id.", "owner_id")


def _not_found(contact_id: UUID) -> DomainError:
    return DomainError(ContactErrorCode.NOT_FOUND, f"No contact with id {contact_id}.", "id")


async def get_contact(actor: Actor, contact_id: UUID) -> Contact:
    contact: Contact | None = await _scoped(actor).get_or_none(id=contact_id)
    if contact is None:
        raise _not_found(contact_id)
    return contact


async def list_contacts(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering = NEWEST_FIRST,
) -> Page[Contact]:
    query = _scoped(actor)
    if criteria is not None:
        try:
            where = ContactFilter.model_validate(criteria)
        except ValidationError as exc:
            raise input_errors(exc, _PYDANTIC_CODES, ContactErrorCode.INVALID) from exc
        if where.status_in is not None:
            query = query.filter(status__in=where.status_in)
        if where.owner_id is not None:
            query = query.filter(owner_id=where.owner_id)
        if where.created_after is not None:
            query = query.filter(created_at__gte=where.created_after)
        if where.created_before is not None:
            query = query.filter(created_at__lt=where.created_before)
        if where.search:
            term = where.search
            query = query.filter(
                Q(first_name__icontains=term)
                | Q(last_name__icontains=term)
                | Q(company_name__icontains=term)
            )
    return await keyset_page(query, ordering, first, after)


async def create_contact(actor: Actor, data: dict[str, Any]) -> Contact:
    """A new contact, owned by its creator unless another owner is given."""
    fields = _parse(data, partial=False)
    if "owner_id" not in data:
        fields["owner_id"] = actor.user_id
    await _check_owner(actor, fields["owner_id"])
    async with in_transaction() as conn:
        contact = Contact(agency_id=actor.agency_id, **_columns(fields))
        await contact.save(using_db=conn)
        after = snapshot(contact)
        await record_audit(actor, AGGREGATE, str(contact.id), "create", {}, after, conn)
        await append_event(actor, "contact.created", AGGREGATE, str(contact.id), after, conn)
    return contact


async def update_contact(actor: Actor, contact_id: UUID, data: dict[str, Any]) -> Contact:
    fields = _parse(data, partial=True)
    if "owner_id" in fields:
        await _check_owner(actor, fields["owner_id"])
    async with in_transaction() as conn:
        contact = await _locked(actor, contact_id, conn)
        before = snapshot(contact)
        contact.update_from_dict(_columns(fields))
        await contact.save(using_db=conn)
        old, new = changed_fields(before, snapshot(contact))
        if new:
            await record_audit(actor, AGGREGATE, str(contact.id), "update", old, new, conn)
            await append_event(
                actor, "contact.updated", AGGREGATE, str(contact.id), {"changes": new}, conn
            )
    return contact


async def delete_contact(actor: Actor, contact_id: UUID) -> Contact:
    """Soft delete: the row stays for audit and undo, but no query returns it."""
    async with in_transaction() as conn:
        contact = await _locked(actor, contact_id, conn)
        contact.deleted_at = datetime.now(UTC)
        await contact.save(using_db=conn, update_fields=["deleted_at", "updated_at"])
        await record_audit(actor, AGGREGATE, str(contact.id), "delete", snapshot(contact), {}, conn)
        await append_event(actor, "contact.deleted", AGGREGATE, str(contact.id), {}, conn)
    return contact


async def transition_contact(actor: Actor, contact_id: UUID, event: str) -> Contact:
    """Apply a lifecycle event; status, audit row and event commit together or not at all."""
    async with in_transaction() as conn:
        contact = await _locked(actor, contact_id, conn)
        before = contact.status
        await apply_event(ContactLifecycle, contact, event, ContactErrorCode.INVALID_TRANSITION)
        await contact.save(using_db=conn, update_fields=["status", "updated_at"])
        change = {"event": event, "from": before, "to": contact.status}
        await record_audit(
            actor,
            AGGREGATE,
            str(contact.id),
            f"transition:{event}",
            {"status": before},
            {"status": contact.status},
            conn,
        )
        await append_event(actor, "contact.transitioned", AGGREGATE, str(contact.id), change, conn)
    return contact


async def _locked(actor: Actor, contact_id: UUID, conn: Any) -> Contact:
    """Read the contact for writing: row-locked on PostgreSQL so concurrent writes serialise.

    A contact the actor can see but not change is FORBIDDEN; one it cannot see is NOT_FOUND.
    """
    contact: Contact | None = (
        await _scoped(actor, Access.WRITE)
        .using_db(conn)
        .select_for_update()
        .get_or_none(id=contact_id)
    )
    if contact is None:
        if await _scoped(actor).using_db(conn).filter(id=contact_id).exists():
            raise DomainError(ContactErrorCode.FORBIDDEN, "You may not change this contact.", "id")
        raise _not_found(contact_id)
    return contact
