"""Lead types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.custom_fields import CustomFieldRecordType
from domain.leads import Lead as LeadRecord
from domain.leads import LeadErrorCode, LeadOrderField
from domain.lifecycles.lead import LeadEvent, LeadLifecycle, LeadStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import leads as resolve
from resolvers import related
from resolvers.errors import Outcome
from schema.custom_fields import (
    CustomFieldValue,
    CustomFieldValueInput,
    custom_field_values,
)
from schema.deals import Deal
from schema.documents import Document, documents_of
from schema.enum_values import described_enum, error_code_enum, lifecycle_enums
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
    error_message,
    node_id,
    payload_errors,
    payload_record,
    updated_at,
)
from schema.users import UserSummary

if TYPE_CHECKING:
    from schema.contacts import Contact
    from schema.customers import Customer
    from schema.timeline import TimelineConnection

    LeadStatusEnum = StrEnum
    LeadEventEnum = StrEnum
else:
    LeadStatusEnum, LeadEventEnum = lifecycle_enums(LeadLifecycle, LeadStatus, LeadEvent, "Lead")

error_code_enum(LeadErrorCode, "LeadErrorCode", "leads")
described_enum(
    LeadOrderField,
    "LeadOrderField",
    "What leads can be sorted by.",
    {
        "CREATED_AT": "When it was created.",
        "UPDATED_AT": "When it last changed.",
        "TITLE": "Title, alphabetically.",
    },
)


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(description="A sales opportunity before it is qualified and becomes a deal.")
class Lead(relay.Node):
    id: relay.NodeID[str] = node_id()
    title: str = strawberry.field(description="What the opportunity is (never empty).")
    services: list[str] = strawberry.field(description="The scope of work.")
    source: str = strawberry.field(description="Where the lead came from, e.g. referral.")
    estimated_value: Decimal | None = strawberry.field(
        description="What it may be worth, in `currency`; null when not estimated."
    )
    currency: str | None = strawberry.field(description="ISO 4217 code of the value, e.g. EUR.")
    tags: list[str] = strawberry.field(description="Names from the agency's tag catalogue.")
    status: LeadStatusEnum = strawberry.field(
        description="Where the lead is in its lifecycle; changed only by `transitionLead` "
        "and `convertLead`."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        """Resolvers return domain records; this type is their GraphQL view."""
        return isinstance(obj, (cls, LeadRecord))

    @strawberry.field(description="The contact the lead is about (the `Contact` type).")
    def contact_id(self, root: strawberry.Parent[LeadRecord]) -> relay.GlobalID | None:
        return _gid("Contact", root.contact_id)

    @strawberry.field(description="The owning sales person's global id (the `User` type).")
    def owner_id(self, root: strawberry.Parent[LeadRecord]) -> relay.GlobalID | None:
        return _gid("User", root.owner_id)

    @strawberry.field(description="The customer it is for (the `Customer` type).")
    def customer_id(self, root: strawberry.Parent[LeadRecord]) -> relay.GlobalID | None:
        return _gid("Customer", root.customer_id)

    @strawberry.field(description="The owner (a colleague's name).")
    async def owner(self, info: Info, root: strawberry.Parent[LeadRecord]) -> UserSummary | None:
        return await related.colleague(info.context, root.owner_id)  # type: ignore[return-value]

    @strawberry.field(description="The contact, if visible to you.")
    async def contact(
        self, info: Info, root: strawberry.Parent[LeadRecord]
    ) -> Annotated[Contact, strawberry.lazy("schema.contacts")] | None:
        return await related.contact(info.context, root.contact_id)  # type: ignore[return-value]

    @strawberry.field(description="The customer, if visible to you.")
    async def customer(
        self, info: Info, root: strawberry.Parent[LeadRecord]
    ) -> Annotated[Customer, strawberry.lazy("schema.customers")] | None:
        return await related.customer(info.context, root.customer_id)  # type: ignore[return-value]

    @strawberry.field(description="The deal the lead was converted into (the `Deal` type).")
    def deal_id(self, root: strawberry.Parent[LeadRecord]) -> relay.GlobalID | None:
        return _gid("Deal", root.deal_id)

    @strawberry.field(
        description="Every live custom field of the record type, with this record's value."
    )
    async def custom_fields(
        self, info: Info, root: strawberry.Parent[LeadRecord]
    ) -> list[CustomFieldValue]:
        return await custom_field_values(info.context, CustomFieldRecordType.LEAD, root.id)

    @strawberry.field(description="Events that may be applied to this lead now.")
    def allowed_events(self, root: strawberry.Parent[LeadRecord]) -> list[LeadEventEnum]:
        return [LeadEvent(e) for e in resolve.lead_allowed_events(root)]

    @strawberry.field(description="Documents on this lead, newest first.")
    async def documents(
        self,
        info: Info,
        root: strawberry.Parent[LeadRecord],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> relay.Connection[Document]:
        return await documents_of(info, "lead", root.id, first, after)

    @strawberry.field(
        description="Everything about this lead, newest first: notes, documents and status changes."
    )
    async def timeline(
        self,
        info: Info,
        root: strawberry.Parent[LeadRecord],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("schema.timeline")]:
        # Imported here: schema.timeline reaches this module through schema.calling_tasks.
        from schema.timeline import timeline_field

        return await timeline_field(info, "lead", root.id, first, after)


@strawberry.type(description="A problem with the input; nothing was changed.")
class LeadError:
    field: str | None = strawberry.field(description="Path of the input field, e.g. services.0.")
    code: LeadErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class LeadPayload:
    lead: Lead | None = payload_record("lead")
    errors: list[LeadError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class ConvertLeadPayload:
    lead: Lead | None = payload_record("lead")
    deal: Deal | None = strawberry.field(description="The deal the conversion created.")
    errors: list[LeadError] = payload_errors()


@strawberry.input(
    description="A new lead in status NEW, owned by you unless `ownerId` says otherwise. "
    "Errors: REQUIRED, TOO_LONG, TOO_MANY, OUT_OF_RANGE, INVALID_CURRENCY, "
    "NOT_FOUND, FORBIDDEN."
)
class CreateLeadInput:
    title: str = strawberry.field(description="What the opportunity is: 1 to 200 characters.")
    services: list[str] = strawberry.field(
        default_factory=list, description='The scope of work, e.g. ["SEO", "Web design"].'
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="The Contact it came from, if any."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="The Customer it is for, if any."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to the creator."
    )
    source: str = strawberry.field(
        default="",
        description="Where it came from (e.g. web form, referral), at most 50 characters.",
    )
    estimated_value: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="What it may be worth: at least 0, at most 12 digits before the point "
        "and 2 after.",
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217; required with a non-zero value."
    )
    tags: list[str] = strawberry.field(
        default_factory=list, description="At most 20 tags, each 1 to 50 characters."
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="Fields left out are unchanged.")
class UpdateLeadInput:
    id: relay.GlobalID = node_id()
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters."
    )
    services: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole list of services it asks for: at most 20, each 1 to 100 characters.",
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Contact id, or null to unlink."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Customer id, or null to unlink."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The new owner (a User id); needs the right to reassign.",
    )
    source: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 50 characters."
    )
    estimated_value: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="At least 0, 12 digits before the point and 2 after at most; null clears it.",
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217 code (e.g. EUR)."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The whole list: at most 20 tags."
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="The lead to delete (soft).")
class DeleteLeadInput:
    id: relay.GlobalID = node_id()


@strawberry.input(description="A lifecycle event to apply to a lead.")
class TransitionLeadInput:
    id: relay.GlobalID = node_id()
    event: LeadEventEnum = strawberry.field(
        description="CONVERT converts with every deal field defaulted (see convertLead)."
    )


@strawberry.input(description="The deal to create; every field defaults from the lead.")
class ConvertLeadInput:
    id: relay.GlobalID = node_id()
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to the lead's title."
    )
    pipeline_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to the agency's default pipeline."
    )
    stage_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="An open stage; defaults to the first open one."
    )
    amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to the lead's estimated value."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to the lead's currency."
    )
    expected_close_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to 30 days from now."
    )


@strawberry.input(description="Which leads to list; conditions combine with AND.")
class LeadFilter(RecordFilter):
    search: str | None = strawberry.field(
        default=None, description="Part of the title or source, in any letter case."
    )
    status_in: list[LeadStatusEnum] | None = strawberry.field(
        default=None, description="Only leads in one of these statuses."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only leads owned by this user."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only leads of this contact."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only leads of this customer."
    )
    source: str | None = strawberry.field(
        default=None, description="Only leads from this source (exact, at most 50 characters)."
    )


@strawberry.input(description="How to sort leads.")
class LeadOrder(RecordOrder):
    field: LeadOrderField = strawberry.field(
        default=LeadOrderField.CREATED_AT,
        description="The field to sort by; CREATED_AT when left out.",
    )


@strawberry.type
class LeadQuery:
    @strawberry.field(description="One lead by its global id, or null if not visible.")
    async def lead(self, info: Info, id: RecordId) -> Lead | None:
        return await resolve.lead(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description=f"Leads, newest first by default; at most {MAX_PAGE_SIZE}.")
    async def leads(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[LeadFilter | None, FILTER] = None,
        order_by: Annotated[LeadOrder | None, ORDER] = None,
    ) -> relay.Connection[Lead]:
        order = order_by or LeadOrder()
        return await resolve.leads_page(
            info.context,
            first,
            after,
            filter,
            order.field.value,
            order.direction is OrderDirection.DESC,
            order.custom_field,
        )


def _payload(outcome: Outcome[LeadRecord]) -> LeadPayload:
    return LeadPayload(
        lead=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(LeadError, outcome.errors),
    )


@strawberry.type
class LeadMutation:
    @strawberry.mutation(description="Create a lead. Errors: see CreateLeadInput.")
    async def create_lead(
        self, info: Info, input: Annotated[CreateLeadInput, MUTATION_INPUT]
    ) -> LeadPayload:
        return _payload(await resolve.create_lead(info.context, input))

    @strawberry.mutation(
        description="Change a lead you may edit: only the fields given. Errors as for createLead."
    )
    async def update_lead(
        self, info: Info, input: Annotated[UpdateLeadInput, MUTATION_INPUT]
    ) -> LeadPayload:
        return _payload(await resolve.update_lead(info.context, input))

    @strawberry.mutation(description="Soft delete: the lead disappears from every query.")
    async def delete_lead(
        self, info: Info, input: Annotated[DeleteLeadInput, MUTATION_INPUT]
    ) -> LeadPayload:
        return _payload(await resolve.delete_lead(info.context, input.id))

    @strawberry.mutation(
        description="Apply a lifecycle event; illegal ones return INVALID_TRANSITION."
    )
    async def transition_lead(
        self, info: Info, input: Annotated[TransitionLeadInput, MUTATION_INPUT]
    ) -> LeadPayload:
        event = LeadEvent(input.event).value
        return _payload(await resolve.transition_lead(info.context, input.id, event))

    @strawberry.mutation(
        description="Convert a qualified lead into a deal, in one transaction; returns both."
    )
    async def convert_lead(
        self, info: Info, input: Annotated[ConvertLeadInput, MUTATION_INPUT]
    ) -> ConvertLeadPayload:
        outcome = await resolve.convert_lead(info.context, input)
        lead, deal = outcome.value if outcome.value is not None else (None, None)
        return ConvertLeadPayload(
            lead=lead,  # type: ignore[arg-type]
            deal=deal,  # type: ignore[arg-type]
            errors=errors_as(LeadError, outcome.errors),
        )
