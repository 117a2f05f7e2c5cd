"""Contact types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.contacts import Contact as ContactRecord
from domain.contacts import ContactErrorCode, ContactOrderField
from domain.custom_fields import CustomFieldRecordType
from domain.lifecycles.contact import ContactEvent, ContactStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.referral_codes import ReferrerType
from resolvers import contacts as resolve
from resolvers import customers as resolve_customers
from resolvers import related
from resolvers.errors import Outcome
from resolvers.message_preferences import of_record as preferences_of
from resolvers.referral_codes import link_of as referral_link_of
from schema.custom_fields import (
    CustomFieldValue,
    CustomFieldValueInput,
    custom_field_values,
)
from schema.documents import Document, documents_of
from schema.message_preferences import MessagePreferences
from schema.payloads import errors_as
from schema.record_filters import OrderDirection, RecordFilter, RecordOrder
from schema.users import UserSummary

if TYPE_CHECKING:
    from schema.customers import Customer
    from schema.timeline import TimelineConnection

    ContactStatusEnum = StrEnum
    ContactEventEnum = StrEnum
else:
    ContactStatusEnum = strawberry.enum(
        ContactStatus, name="ContactStatus", description="Where a contact is in its lifecycle."
    )
    ContactEventEnum = strawberry.enum(
        ContactEvent, name="ContactEvent", description="Events of the contact lifecycle."
    )

strawberry.enum(ContactErrorCode, name="ContactErrorCode")
strawberry.enum(ContactOrderField, name="ContactOrderField")


@strawberry.type(description="A postal address with optional coordinates.")
class Address:
    street: str
    city: str
    region: str
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. GB.")
    latitude: float | None
    longitude: float | None


def address_of(root: Any) -> Address:
    """The address held in a row's columns (`street`, `city`, ...: contacts, the agency)."""
    return Address(
        street=root.street,
        city=root.city,
        region=root.region,
        postal_code=root.postal_code,
        country=root.country,
        latitude=root.latitude,
        longitude=root.longitude,
    )


@strawberry.type(description="A person the agency sells to.")
class Contact(relay.Node):
    id: relay.NodeID[str]
    first_name: str
    last_name: str
    emails: list[str]
    phones: list[str] = strawberry.field(description="E.164, e.g. +442079460958.")
    company_name: str
    job_title: str
    source: str
    tags: list[str]
    notes: str
    status: ContactStatusEnum
    created_at: datetime
    updated_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        """Resolvers return domain records; this type is their GraphQL view."""
        return isinstance(obj, (cls, ContactRecord))

    @strawberry.field(description="The owning user's global id (the `User` type).")
    def owner_id(self, root: strawberry.Parent[ContactRecord]) -> relay.GlobalID | None:
        return relay.GlobalID("User", str(root.owner_id)) if root.owner_id else None

    @strawberry.field(description="The owner (a colleague's name).")
    async def owner(self, info: Info, root: strawberry.Parent[ContactRecord]) -> UserSummary | None:
        return await related.colleague(info.context, root.owner_id)  # type: ignore[return-value]

    @strawberry.field(description="The customer this contact belongs to (its primary link).")
    async def customer(
        self, info: Info, root: strawberry.Parent[ContactRecord]
    ) -> Annotated[Customer, strawberry.lazy("schema.customers")] | None:
        return await resolve_customers.customer_of_contact(info.context, root.id)  # type: ignore[return-value]

    @strawberry.field
    def address(self, root: strawberry.Parent[ContactRecord]) -> Address:
        return address_of(root)

    @strawberry.field(
        description="Every live custom field of the record type, with this record's value."
    )
    async def custom_fields(
        self, info: Info, root: strawberry.Parent[ContactRecord]
    ) -> list[CustomFieldValue]:
        return await custom_field_values(info.context, CustomFieldRecordType.CONTACT, root.id)

    @strawberry.field(description="What the contact receives, and on which channel.")
    async def message_preferences(
        self, info: Info, root: strawberry.Parent[ContactRecord]
    ) -> MessagePreferences:
        return await preferences_of(info.context, "contact", root.id)  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "The link this contact shares to refer people to the agency's public, active "
            "referral campaign with this code (its page, with the contact's referral code); "
            "null for any other campaign."
        )
    )
    async def referral_link(
        self, info: Info, root: strawberry.Parent[ContactRecord], campaign_code: str
    ) -> str | None:
        return await referral_link_of(info.context, ReferrerType.CONTACT, root.id, campaign_code)

    @strawberry.field(description="Events that may be applied to this contact now.")
    def allowed_events(self, root: strawberry.Parent[ContactRecord]) -> list[ContactEventEnum]:
        return [ContactEvent(e) for e in resolve.contact_allowed_events(root)]

    @strawberry.field(description="Documents on this contact, newest first.")
    async def documents(
        self,
        info: Info,
        root: strawberry.Parent[ContactRecord],
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> relay.Connection[Document]:
        return await documents_of(info, "contact", root.id, first, after)

    @strawberry.field(
        description="Everything about this contact, newest first: notes, documents, calling "
        "tasks, status changes and emails."
    )
    async def timeline(
        self,
        info: Info,
        root: strawberry.Parent[ContactRecord],
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("schema.timeline")]:
        # Imported here: schema.timeline reaches this module through schema.calling_tasks.
        from schema.timeline import timeline_field

        return await timeline_field(info, "contact", root.id, first, after)


@strawberry.type(description="A problem with the input; nothing was changed.")
class ContactError:
    field: str | None = strawberry.field(description="Path of the input field, e.g. emails.0.")
    code: ContactErrorCode
    message: str


@strawberry.type
class ContactPayload:
    contact: Contact | None
    errors: list[ContactError]


@strawberry.input
class AddressInput:
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = strawberry.field(default="", description="ISO 3166-1 alpha-2 code.")
    latitude: float | None = None
    longitude: float | None = None


@strawberry.input
class CreateContactInput:
    first_name: str
    last_name: str = ""
    emails: list[str] = strawberry.field(default_factory=list)
    phones: list[str] = strawberry.field(
        default_factory=list, description="International form, e.g. +44 20 7946 0958."
    )
    company_name: str = ""
    job_title: str = ""
    address: AddressInput | None = strawberry.UNSET
    source: str = ""
    tags: list[str] = strawberry.field(default_factory=list)
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to the creator."
    )
    notes: str = ""
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="Fields left out are unchanged; `address` is replaced whole.")
class UpdateContactInput:
    id: relay.GlobalID
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    company_name: str | None = strawberry.UNSET
    job_title: str | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    source: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    owner_id: relay.GlobalID | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input
class DeleteContactInput:
    id: relay.GlobalID


@strawberry.input
class TransitionContactInput:
    id: relay.GlobalID
    event: ContactEventEnum


@strawberry.input
class ContactFilter(RecordFilter):
    search: str | None = strawberry.field(
        default=None,
        description="Part of a name, company name, email address or phone number "
        "(any format, e.g. 020 7946 0958).",
    )
    status_in: list[ContactStatusEnum] | None = None
    owner_id: relay.GlobalID | None = None


@strawberry.input
class ContactOrder(RecordOrder):
    field: ContactOrderField = ContactOrderField.CREATED_AT


@strawberry.type
class ContactQuery:
    @strawberry.field(description="One contact by its global id, or null if not visible.")
    async def contact(self, info: Info, id: relay.GlobalID) -> Contact | None:
        return await resolve.contact(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description=f"Contacts, newest first by default; at most {MAX_PAGE_SIZE}.")
    async def contacts(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: ContactFilter | None = None,
        order_by: ContactOrder | None = None,
    ) -> relay.Connection[Contact]:
        order = order_by or ContactOrder()
        return await resolve.contacts_page(
            info.context,
            first,
            after,
            filter,
            order.field.value,
            order.direction is OrderDirection.DESC,
            order.custom_field,
        )


def _payload(outcome: Outcome[ContactRecord]) -> ContactPayload:
    return ContactPayload(
        contact=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(ContactError, outcome.errors),
    )


@strawberry.type
class ContactMutation:
    @strawberry.mutation
    async def create_contact(self, info: Info, input: CreateContactInput) -> ContactPayload:
        return _payload(await resolve.create_contact(info.context, input))

    @strawberry.mutation
    async def update_contact(self, info: Info, input: UpdateContactInput) -> ContactPayload:
        return _payload(await resolve.update_contact(info.context, input))

    @strawberry.mutation(description="Soft delete: the contact disappears from every query.")
    async def delete_contact(self, info: Info, input: DeleteContactInput) -> ContactPayload:
        return _payload(await resolve.delete_contact(info.context, input.id))

    @strawberry.mutation(
        description="Apply a lifecycle event; illegal ones return INVALID_TRANSITION."
    )
    async def transition_contact(self, info: Info, input: TransitionContactInput) -> ContactPayload:
        event = ContactEvent(input.event).value
        return _payload(await resolve.transition_contact(info.context, input.id, event))
