"""Contact types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.contacts import Contact as ContactRecord
from domain.contacts import ContactErrorCode, ContactOrderField, ContactRow
from domain.custom_fields import CustomFieldRecordType
from domain.lifecycles.contact import ContactEvent, ContactLifecycle, ContactStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.referral_codes import ReferrerType
from resolvers import contacts as resolve
from resolvers import customers as resolve_customers
from resolvers import related
from resolvers.errors import Outcome
from resolvers.message_preferences import of_record as preferences_of
from resolvers.pagination import node_fields
from resolvers.referral_codes import link_of as referral_link_of
from schema.custom_fields import (
    CustomFieldValue,
    CustomFieldValueInput,
    custom_field_values,
)
from schema.documents import Document, documents_of
from schema.duplicates import DuplicateMatch, duplicate_warnings
from schema.enum_values import described_enum, error_code_enum, lifecycle_enums
from schema.message_preferences import MessagePreferences
from schema.payloads import errors_as
from schema.record_filters import OrderDirection, RecordFilter, RecordOrder
from schema.shared_fields import (
    FILTER,
    MUTATION_INPUT,
    ORDER,
    After,
    CampaignCode,
    First,
    RecordId,
    created_at,
    error_code,
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)
from schema.users import UserSummary

if TYPE_CHECKING:
    from schema.customers import Customer
    from schema.timeline import TimelineConnection

    ContactStatusEnum = StrEnum
    ContactEventEnum = StrEnum
else:
    ContactStatusEnum, ContactEventEnum = lifecycle_enums(
        ContactLifecycle, ContactStatus, ContactEvent, "Contact"
    )

error_code_enum(ContactErrorCode, "ContactErrorCode", "contacts")
described_enum(
    ContactOrderField,
    "ContactOrderField",
    "What contacts can be sorted by.",
    {
        "CREATED_AT": "When it was created.",
        "UPDATED_AT": "When it last changed.",
        "FIRST_NAME": "Given name, alphabetically.",
        "LAST_NAME": "Family name, alphabetically.",
        "COMPANY_NAME": "Company name, alphabetically.",
    },
)


@strawberry.type(description="A postal address with optional coordinates.")
class Address:
    street: str = strawberry.field(description="Street and number.")
    city: str = strawberry.field(description="City or town.")
    region: str = strawberry.field(description="State, county or province.")
    postal_code: str = strawberry.field(description="Postal or ZIP code.")
    country: str = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. GB.")
    latitude: float | None = strawberry.field(
        description="Degrees north (negative: south), if known."
    )
    longitude: float | None = strawberry.field(
        description="Degrees east (negative: west), if known."
    )


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
    id: relay.NodeID[str] = node_id()
    first_name: str = strawberry.field(description="Given name (never empty).")
    last_name: str = strawberry.field(description="Family name; may be empty.")
    emails: list[str] = strawberry.field(
        description="Email addresses, the first being the one messages go to."
    )
    phones: list[str] = strawberry.field(description="E.164, e.g. +442079460958.")
    company_name: str = strawberry.field(
        description="The company they work for, as they gave it (the linked `customer` "
        "is the record)."
    )
    job_title: str = strawberry.field(description="Their role at their company.")
    source: str = strawberry.field(
        description="Where the contact came from (e.g. web form, event, email); free text."
    )
    tags: list[str] = strawberry.field(
        description="Tags from the agency's catalogue, in the order given."
    )
    notes: str = strawberry.field(description="Free-form notes (timeline notes are `addNote`).")
    status: ContactStatusEnum = strawberry.field(
        description="Where the contact is in its lifecycle; changed only by `transitionContact`."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        """Resolvers return domain records (model objects or rows); this type is their view."""
        return isinstance(obj, (cls, ContactRecord, ContactRow))

    @strawberry.field(description="The owning user's global id (the `User` type).")
    def owner_id(self, root: strawberry.Parent[ContactRecord]) -> relay.GlobalID | None:
        return relay.GlobalID("User", str(root.owner_id)) if root.owner_id else None

    # `owner` and `customer` are plain functions, not coroutines: they answer the loaded value
    # when the page loaded it (`resolvers.contacts.load_links`), else the pending load.
    @strawberry.field(description="The owner (a colleague's name).")
    def owner(self, info: Info, root: strawberry.Parent[ContactRecord]) -> UserSummary | None:
        return related.owner(info.context, root.owner_id)  # type: ignore[return-value]

    @strawberry.field(description="The customer this contact belongs to (its primary link).")
    def customer(
        self, info: Info, root: strawberry.Parent[ContactRecord]
    ) -> Annotated[Customer, strawberry.lazy("schema.customers")] | None:
        return resolve_customers.customer_of_contact(info.context, root.id)  # type: ignore[return-value]

    @strawberry.field(description="The postal address (empty parts are empty strings).")
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
        self,
        info: Info,
        root: strawberry.Parent[ContactRecord],
        campaign_code: CampaignCode,
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
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
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
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("schema.timeline")]:
        # Imported here: schema.timeline reaches this module through schema.calling_tasks.
        from schema.timeline import timeline_field

        return await timeline_field(info, "contact", root.id, first, after)


@strawberry.type(description="A problem with the input; nothing was changed.")
class ContactError:
    field: str | None = strawberry.field(description="Path of the input field, e.g. emails.0.")
    code: ContactErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class ContactPayload:
    contact: Contact | None = payload_record("contact")
    errors: list[ContactError] = payload_errors()

    @strawberry.field(
        description="Possible duplicates of the contact as saved, among those you may read, best "
        "first: a warning, nothing was refused (`mergeContacts` joins them). Empty when "
        "there is no contact."
    )
    async def duplicates(self, info: Info) -> list[DuplicateMatch]:
        return await duplicate_warnings(info, self.contact)


@strawberry.input(description="A postal address; every part optional, texts trimmed.")
class AddressInput:
    street: str = strawberry.field(
        default="", description="Street and number, at most 200 characters."
    )
    city: str = strawberry.field(default="", description="City or town, at most 100 characters.")
    region: str = strawberry.field(
        default="", description="State, county or province, at most 100 characters."
    )
    postal_code: str = strawberry.field(
        default="", description="Postal or ZIP code, at most 20 characters."
    )
    country: str = strawberry.field(default="", description="ISO 3166-1 alpha-2 code.")
    latitude: float | None = strawberry.field(
        default=None, description="Degrees north, -90 to 90 (else OUT_OF_RANGE)."
    )
    longitude: float | None = strawberry.field(
        default=None, description="Degrees east, -180 to 180 (else OUT_OF_RANGE)."
    )


@strawberry.input(
    description="A new contact: only `firstName` is required. Errors: REQUIRED, "
    "TOO_LONG, TOO_MANY, "
    "INVALID_EMAIL, INVALID_PHONE, NOT_FOUND (owner), FORBIDDEN and the custom-field "
    "codes."
)
class CreateContactInput:
    first_name: str = strawberry.field(description="Given name: 1 to 100 characters, trimmed.")
    last_name: str = strawberry.field(
        default="", description="Family name, at most 100 characters."
    )
    emails: list[str] = strawberry.field(
        default_factory=list,
        description="Email addresses, at most 10, no repeats (INVALID_EMAIL for one that is not "
        "deliverable); the first is the one messages go to.",
    )
    phones: list[str] = strawberry.field(
        default_factory=list, description="International form, e.g. +44 20 7946 0958."
    )
    company_name: str = strawberry.field(
        default="", description="The company they work for, at most 200 characters."
    )
    job_title: str = strawberry.field(default="", description="Their role, at most 200 characters.")
    address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description="Postal address; left out: empty."
    )
    source: str = strawberry.field(
        default="", description="Where the contact came from, at most 50 characters."
    )
    tags: list[str] = strawberry.field(
        default_factory=list, description="Tags, at most 20, each 1 to 50 characters, no repeats."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to the creator."
    )
    notes: str = strawberry.field(
        default="", description="Free-form notes, at most 10,000 characters."
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="Fields left out are unchanged; `address` is replaced whole.")
class UpdateContactInput:
    id: relay.GlobalID = node_id()
    first_name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Given name: 1 to 100 characters (null or blank: REQUIRED).",
    )
    last_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Family name, at most 100 characters."
    )
    emails: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The whole new list: at most 10, no repeats."
    )
    phones: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole new list: at most 10, international form (e.g. +44 20 7946 0958).",
    )
    company_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 200 characters."
    )
    job_title: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 200 characters."
    )
    address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description="The whole new address (parts left out become empty)."
    )
    source: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 50 characters."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole new list: at most 20, each 1 to 50 characters.",
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="A User id of the agency: the new owner (needs the right to reassign; else "
        "FORBIDDEN).",
    )
    notes: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 10,000 characters."
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(
    description="The contact to delete (soft: it leaves every list, its history stays)."
)
class DeleteContactInput:
    id: relay.GlobalID = node_id()


@strawberry.input(description="A lifecycle event to apply to a contact.")
class TransitionContactInput:
    id: relay.GlobalID = node_id()
    event: ContactEventEnum = strawberry.field(
        description="The event; `allowedEvents` on the contact lists those possible now."
    )


@strawberry.input(description="Which contacts to list; conditions combine with AND.")
class ContactFilter(RecordFilter):
    search: str | None = strawberry.field(
        default=None,
        description="Part of a name, company name, email address or phone number "
        "(any format, e.g. 020 7946 0958).",
    )
    status_in: list[ContactStatusEnum] | None = strawberry.field(
        default=None, description="Only contacts in one of these statuses."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only contacts owned by this user (a User id)."
    )


@strawberry.input(description="How to sort contacts.")
class ContactOrder(RecordOrder):
    field: ContactOrderField = strawberry.field(
        default=ContactOrderField.CREATED_AT,
        description="The field to sort by; CREATED_AT when left out.",
    )


@strawberry.type
class ContactQuery:
    @strawberry.field(description="One contact by its global id, or null if not visible.")
    async def contact(self, info: Info, id: RecordId) -> Contact | None:
        return await resolve.contact(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description=f"Contacts, newest first by default; at most {MAX_PAGE_SIZE}.")
    async def contacts(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[ContactFilter | None, FILTER] = None,
        order_by: Annotated[ContactOrder | None, ORDER] = None,
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
            node_fields(info),
        )


def _payload(outcome: Outcome[ContactRecord]) -> ContactPayload:
    return ContactPayload(
        contact=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(ContactError, outcome.errors),
    )


@strawberry.type
class ContactMutation:
    @strawberry.mutation(
        description="Create a contact, owned by you unless `ownerId` says otherwise; "
        "status NEW. Sales "
        "roles and admins."
    )
    async def create_contact(
        self, info: Info, input: Annotated[CreateContactInput, MUTATION_INPUT]
    ) -> ContactPayload:
        return _payload(await resolve.create_contact(info.context, input))

    @strawberry.mutation(
        description="Change a contact you may edit: only the fields given. Errors as for "
        "createContact, plus NOT_FOUND."
    )
    async def update_contact(
        self, info: Info, input: Annotated[UpdateContactInput, MUTATION_INPUT]
    ) -> ContactPayload:
        return _payload(await resolve.update_contact(info.context, input))

    @strawberry.mutation(description="Soft delete: the contact disappears from every query.")
    async def delete_contact(
        self, info: Info, input: Annotated[DeleteContactInput, MUTATION_INPUT]
    ) -> ContactPayload:
        return _payload(await resolve.delete_contact(info.context, input.id))

    @strawberry.mutation(
        description="Apply a lifecycle event; illegal ones return INVALID_TRANSITION."
    )
    async def transition_contact(
        self, info: Info, input: Annotated[TransitionContactInput, MUTATION_INPUT]
    ) -> ContactPayload:
        event = ContactEvent(input.event).value
        return _payload(await resolve.transition_contact(info.context, input.id, event))
