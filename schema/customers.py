"""Customer types, inputs, enums and payloads; contact conversion."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.contacts import Conversion
from domain.custom_fields import CustomFieldRecordType
from domain.customers import MAX_BILLING_UNITS, CustomerErrorCode, CustomerOrderField, CustomerRow
from domain.customers import ContactLink as ContactLinkRecord
from domain.customers import Customer as CustomerRecord
from domain.lifecycles.customer import CustomerEvent, CustomerLifecycle, CustomerStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import customers as resolve
from resolvers import related
from resolvers.errors import Outcome
from resolvers.message_preferences import of_record as preferences_of
from schema.contacts import Contact, ContactError
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
    First,
    RecordId,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)
from schema.users import UserSummary

if TYPE_CHECKING:
    from schema.timeline import TimelineConnection

    CustomerStatusEnum = StrEnum
    CustomerEventEnum = StrEnum
else:
    CustomerStatusEnum, CustomerEventEnum = lifecycle_enums(
        CustomerLifecycle, CustomerStatus, CustomerEvent, "Customer"
    )

error_code_enum(CustomerErrorCode, "CustomerErrorCode", "customers")
described_enum(
    CustomerOrderField,
    "CustomerOrderField",
    "What customers can be sorted by.",
    {
        "CREATED_AT": "When it was created.",
        "UPDATED_AT": "When it last changed.",
        "NAME": "Name, alphabetically.",
    },
)


@strawberry.type(description="A contact's role at a customer.")
class CustomerContactLink:
    role: str = strawberry.field(
        description="The contact's role at the customer (e.g. buyer), free text."
    )
    is_primary: bool = strawberry.field(description="The customer's main contact; at most one is.")

    @strawberry.field(description="The linked contact.")
    async def contact(
        self, info: Info, root: strawberry.Parent[ContactLinkRecord]
    ) -> Contact | None:
        return await related.contact(info.context, root.contact_id)  # type: ignore[return-value]


@strawberry.type(
    description="A part of a customer invoiced on its own (a branch, a department, a cost "
    "centre); empty details fall back to the customer's own."
)
class BillingUnit:
    name: str = strawberry.field(description="Its name, distinct within the customer.")
    billing_email: str = strawberry.field(
        description="Where its invoices go; empty: the customer's."
    )
    billing_address: str = strawberry.field(
        description="The address its invoices carry; empty: the customer's."
    )
    tax_id: str = strawberry.field(description="Its tax number; empty: the customer's.")
    currency: str = strawberry.field(description="ISO 4217 code; empty: the customer's.")
    payment_terms_days: int | None = strawberry.field(
        description="Days to pay; null: the customer's."
    )
    purchase_order: str = strawberry.field(description="The reference its invoices quote.")


@strawberry.input(description="A billing unit; names are distinct within a customer.")
class BillingUnitInput:
    name: str = strawberry.field(
        description="1 to 200 characters, distinct (case-insensitive) within the customer."
    )
    billing_email: str = strawberry.field(default="", description="An email address, or empty.")
    billing_address: str = strawberry.field(default="", description="At most 2,000 characters.")
    tax_id: str = strawberry.field(default="", description="At most 50 characters.")
    currency: str = strawberry.field(default="", description="ISO 4217.")
    payment_terms_days: int | None = strawberry.field(
        default=None, description="0 to 365, or null."
    )
    purchase_order: str = strawberry.field(
        default="", description="The reference its invoices quote, at most 100 characters."
    )


@strawberry.type(description="A company the agency serves.")
class Customer(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(
        description="The name the agency calls the customer by (never empty)."
    )
    legal_name: str = strawberry.field(description="The registered name invoices carry.")
    website: str = strawberry.field(description="Its website (an http or https URL), or empty.")
    industry: str = strawberry.field(description="Its industry, free text.")
    category: str = strawberry.field(
        description="The agency's own grouping (e.g. A, key account), free text."
    )
    rating: str = strawberry.field(description="The agency's own rating, free text.")
    tags: list[str] = strawberry.field(description="Tags from the agency's catalogue.")
    services: list[str] = strawberry.field(
        description="What the agency provides to this customer, free text, in order."
    )
    billing_email: str = strawberry.field(
        description="Where invoices go; empty: the primary contact's address."
    )
    billing_address: str = strawberry.field(
        description="The address invoices carry, as lines of text."
    )
    tax_id: str = strawberry.field(description="VAT or tax number.")
    currency: str = strawberry.field(
        description="ISO 4217 code invoices use (e.g. EUR); empty: the agency's."
    )
    payment_terms_days: int | None = strawberry.field(
        description="Days to pay an invoice (0 to 365); null: the agency's default."
    )
    status: CustomerStatusEnum = strawberry.field(
        description="Where the customer is in its lifecycle; changed only by `transitionCustomer`."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @strawberry.field(description="What the customer receives, and on which channel.")
    async def message_preferences(
        self, info: Info, root: strawberry.Parent[CustomerRecord]
    ) -> MessagePreferences:
        return await preferences_of(info.context, "customer", root.id)  # type: ignore[return-value]

    @strawberry.field(
        description="email, phone, sms or whatsapp.",
        deprecation_reason="Use messagePreferences { channel }.",
    )
    async def preferred_channel(self, info: Info, root: strawberry.Parent[CustomerRecord]) -> str:
        preferences = await preferences_of(info.context, "customer", root.id)
        return str(preferences.channel)

    @strawberry.field(
        deprecation_reason="Use messagePreferences { topics }.",
        description="Topics the customer receives (same as `messagePreferences.topics`).",
    )
    async def notification_subscriptions(
        self, info: Info, root: strawberry.Parent[CustomerRecord]
    ) -> list[str]:
        preferences = await preferences_of(info.context, "customer", root.id)
        return list(preferences.topics)

    @strawberry.field(description="Parts of the customer invoiced on their own, in order.")
    def billing_units(self, root: strawberry.Parent[CustomerRecord]) -> list[BillingUnit]:
        return [BillingUnit(**unit) for unit in root.billing_units]

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, CustomerRecord, CustomerRow))

    @strawberry.field(description="The parent company, if visible to you.")
    async def parent(
        self, info: Info, root: strawberry.Parent[CustomerRecord]
    ) -> Annotated[Customer, strawberry.lazy("schema.customers")] | None:
        return await related.customer(info.context, root.parent_id)  # type: ignore[return-value]

    @strawberry.field(description="The relationship manager.")
    async def owner(
        self, info: Info, root: strawberry.Parent[CustomerRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.owner_id)  # type: ignore[return-value]

    @strawberry.field(description="Who runs operations for this customer.")
    async def operations_user(
        self, info: Info, root: strawberry.Parent[CustomerRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.operations_user_id)  # type: ignore[return-value]

    @strawberry.field(description="Linked contacts you can see, the primary one first.")
    async def contacts(
        self, info: Info, root: strawberry.Parent[CustomerRecord]
    ) -> list[CustomerContactLink]:
        return await resolve.contact_links(info.context, root)  # type: ignore[return-value]

    @strawberry.field(
        description="Every live custom field of the record type, with this record's value."
    )
    async def custom_fields(
        self, info: Info, root: strawberry.Parent[CustomerRecord]
    ) -> list[CustomFieldValue]:
        return await custom_field_values(info.context, CustomFieldRecordType.CUSTOMER, root.id)

    @strawberry.field(description="Events that may be applied to this customer now.")
    def allowed_events(self, root: strawberry.Parent[CustomerRecord]) -> list[CustomerEventEnum]:
        return [CustomerEvent(e) for e in resolve.customer_allowed_events(root)]

    @strawberry.field(description="Documents on this customer, newest first.")
    async def documents(
        self,
        info: Info,
        root: strawberry.Parent[CustomerRecord],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> relay.Connection[Document]:
        return await documents_of(info, "customer", root.id, first, after)

    @strawberry.field(
        description="Everything about this customer, newest first: notes, documents, calling "
        "tasks, status changes and emails."
    )
    async def timeline(
        self,
        info: Info,
        root: strawberry.Parent[CustomerRecord],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("schema.timeline")]:
        # Imported here: schema.timeline reaches this module through schema.calling_tasks.
        from schema.timeline import timeline_field

        return await timeline_field(info, "customer", root.id, first, after)


@strawberry.type(description="A problem with the input; nothing was changed.")
class CustomerError:
    field: str | None = error_field()
    code: CustomerErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class CustomerPayload:
    customer: Customer | None = payload_record("customer")
    errors: list[CustomerError] = payload_errors()

    @strawberry.field(
        description="Possible duplicates of the customer as saved, among those you may read, best "
        "first: a warning, nothing was refused (`mergeCustomers` joins them). Empty when "
        "there is no customer."
    )
    async def duplicates(self, info: Info) -> list[DuplicateMatch]:
        return await duplicate_warnings(info, self.customer)


def _payload(outcome: Outcome[CustomerRecord]) -> CustomerPayload:
    return CustomerPayload(
        customer=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(CustomerError, outcome.errors),
    )


@strawberry.input(
    description="Customer fields shared by create and update; on update, fields left out are "
    "unchanged."
)
class CustomerFields:
    """Shared by create and update; on update, fields left out are unchanged."""

    legal_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Registered name, at most 200 characters."
    )
    website: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An http or https URL, at most 300 characters (else INVALID).",
    )
    industry: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 100 characters."
    )
    category: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 50 characters."
    )
    rating: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 20 characters."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole list: at most 20 tags, each 1 to 50 characters.",
    )
    parent_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="A Customer id: the group this customer belongs to (a cycle is PARENT_CYCLE).",
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="The relationship manager (a User id)."
    )
    operations_user_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="Who runs the customer's operations (a User id)."
    )
    preferred_channel: str | None = strawberry.field(
        description="email, phone, sms or whatsapp.",
        default=strawberry.UNSET,
        deprecation_reason="Use updateMessagePreferences (channel).",
    )
    notification_subscriptions: list[str] | None = strawberry.field(
        description="Topics the customer receives.",
        default=strawberry.UNSET,
        deprecation_reason="Use updateMessagePreferences (topics).",
    )
    services: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole list: at most 50, each at most 200 characters.",
    )
    billing_email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Where invoices go: an email address, or empty."
    )
    billing_address: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The address invoices carry, at most 2,000 characters.",
    )
    tax_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 50 characters."
    )
    currency: str | None = strawberry.field(default=strawberry.UNSET, description="ISO 4217.")
    payment_terms_days: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="Days to pay, 0 to 365 (else OUT_OF_RANGE); null: the agency's default.",
    )
    billing_units: list[BillingUnitInput] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"The whole list, replacing the old one; at most {MAX_BILLING_UNITS}.",
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(
    description="A new customer, in status DRAFT. Errors: REQUIRED, TOO_LONG, TOO_MANY, INVALID, "
    "INVALID_EMAIL, OUT_OF_RANGE, PARENT_CYCLE, NOT_FOUND, FORBIDDEN and the custom-field "
    "codes."
)
class CreateCustomerInput(CustomerFields):
    name: str = strawberry.field(description="1 to 200 characters, trimmed.")


@strawberry.input(description="Changes to a customer; fields left out are unchanged.")
class UpdateCustomerInput(CustomerFields):
    id: relay.GlobalID = node_id()
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters (blank: REQUIRED)."
    )


@strawberry.input(description="The customer to act on.")
class CustomerIdInput:
    id: relay.GlobalID = node_id()


@strawberry.input(description="A lifecycle event to apply to a customer.")
class TransitionCustomerInput:
    id: relay.GlobalID = node_id()
    event: CustomerEventEnum = strawberry.field(
        description="The event; `allowedEvents` on the customer lists those possible now."
    )


@strawberry.input(description="A contact to link to a customer (or a link to change).")
class LinkCustomerContactInput:
    id: relay.GlobalID = node_id()
    contact_id: relay.GlobalID = strawberry.field(description="A Contact id.")
    role: str = strawberry.field(
        default="", description="The contact's role there, at most 100 characters."
    )
    is_primary: bool = strawberry.field(
        default=False,
        description="Make this the primary contact (the previous one stops being it).",
    )


@strawberry.input(description="A contact to unlink from a customer.")
class UnlinkCustomerContactInput:
    id: relay.GlobalID = node_id()
    contact_id: relay.GlobalID = strawberry.field(description="A Contact id that is linked.")


@strawberry.input(description="Convert a Hot contact: link an existing customer or create one.")
class ConvertContactInput:
    id: relay.GlobalID = node_id()
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Link this customer; leave out to create one."
    )
    new_customer: CreateCustomerInput | None = strawberry.field(
        default=None, description="The customer to create (default: named after the company)."
    )


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class ConvertContactPayload:
    contact: Contact | None = payload_record("contact")
    customer: Customer | None = payload_record("customer")
    errors: list[ContactError] = payload_errors()


@strawberry.input(description="Which customers to list; conditions combine with AND.")
class CustomerFilter(RecordFilter):
    search: str | None = strawberry.field(
        default=None, description="Part of the name, legal name, website or billing email."
    )
    status_in: list[CustomerStatusEnum] | None = strawberry.field(
        default=None, description="Only customers in one of these statuses."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only customers this user manages (a User id)."
    )
    parent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only the direct children of this customer (a Customer id)."
    )


@strawberry.input(description="How to sort customers.")
class CustomerOrder(RecordOrder):
    field: CustomerOrderField = strawberry.field(
        default=CustomerOrderField.CREATED_AT,
        description="The field to sort by; CREATED_AT when left out.",
    )


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="One customer by its global id, or null if not visible.")
    async def customer(self, info: Info, id: RecordId) -> Customer | None:
        return await resolve.customer(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description=f"Customers, newest first by default; at most {MAX_PAGE_SIZE}.")
    async def customers(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[CustomerFilter | None, FILTER] = None,
        order_by: Annotated[CustomerOrder | None, ORDER] = None,
    ) -> relay.Connection[Customer]:
        order = order_by or CustomerOrder()
        return await resolve.customers_page(
            info.context,
            first,
            after,
            filter,
            order.field.value,
            order.direction is OrderDirection.DESC,
            order.custom_field,
        )


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(
        description="Create a customer in status DRAFT. Errors: see CreateCustomerInput."
    )
    async def create_customer(
        self, info: Info, input: Annotated[CreateCustomerInput, MUTATION_INPUT]
    ) -> CustomerPayload:
        return _payload(await resolve.create_customer(info.context, input))

    @strawberry.mutation(
        description="Change a customer you may edit: only the fields given. Errors as for "
        "createCustomer, plus NOT_FOUND."
    )
    async def update_customer(
        self, info: Info, input: Annotated[UpdateCustomerInput, MUTATION_INPUT]
    ) -> CustomerPayload:
        return _payload(await resolve.update_customer(info.context, input))

    @strawberry.mutation(description="Soft delete: the customer disappears from every query.")
    async def delete_customer(
        self, info: Info, input: Annotated[CustomerIdInput, MUTATION_INPUT]
    ) -> CustomerPayload:
        return _payload(await resolve.delete_customer(info.context, input.id))

    @strawberry.mutation(
        description="Apply a lifecycle event; ACTIVATE needs a primary contact and billing "
        "details (GUARD_FAILED otherwise)."
    )
    async def transition_customer(
        self, info: Info, input: Annotated[TransitionCustomerInput, MUTATION_INPUT]
    ) -> CustomerPayload:
        event = CustomerEvent(input.event).value
        return _payload(await resolve.transition_customer(info.context, input.id, event))

    @strawberry.mutation(description="Link a contact with a role (or change its role).")
    async def link_customer_contact(
        self, info: Info, input: Annotated[LinkCustomerContactInput, MUTATION_INPUT]
    ) -> CustomerPayload:
        outcome = await resolve.link_contact(
            info.context, input.id, input.contact_id, input.role, input.is_primary
        )
        return _payload(outcome)

    @strawberry.mutation(
        description="Unlink a contact from a customer; the contact itself stays. Errors: "
        "NOT_FOUND, "
        "FORBIDDEN."
    )
    async def unlink_customer_contact(
        self, info: Info, input: Annotated[UnlinkCustomerContactInput, MUTATION_INPUT]
    ) -> CustomerPayload:
        return _payload(await resolve.unlink_contact(info.context, input.id, input.contact_id))

    @strawberry.mutation(
        description="Convert a Hot contact into (or onto) a customer, in one transaction."
    )
    async def convert_contact(
        self, info: Info, input: Annotated[ConvertContactInput, MUTATION_INPUT]
    ) -> ConvertContactPayload:
        outcome: Outcome[Conversion] = await resolve.convert_contact(
            info.context, input.id, input.customer_id, input.new_customer
        )
        done = outcome.value
        return ConvertContactPayload(
            contact=done.contact if done else None,  # type: ignore[arg-type]
            customer=done.customer if done else None,  # type: ignore[arg-type]
            errors=errors_as(ContactError, outcome.errors),
        )
