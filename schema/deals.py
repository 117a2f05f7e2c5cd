"""Deal (opportunity) types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.custom_fields import CustomFieldRecordType
from domain.deals import Deal as DealRecord
from domain.deals import DealErrorCode, DealOrderField
from domain.lifecycles.deal import DealEvent, DealLifecycle, DealStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import deals as resolve
from resolvers import related
from resolvers.errors import Outcome
from schema.custom_fields import (
    CustomFieldValue,
    CustomFieldValueInput,
    custom_field_values,
)
from schema.documents import Document, documents_of
from schema.enum_values import described_enum, error_code_enum, lifecycle_enums
from schema.payloads import errors_as
from schema.pipelines import Stage
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

    DealStatusEnum = StrEnum
    DealEventEnum = StrEnum
else:
    DealStatusEnum, DealEventEnum = lifecycle_enums(
        DealLifecycle,
        DealStatus,
        DealEvent,
        "Deal",
        "Open, won or lost: the kind of the deal's stage.",
        "Events of the deal lifecycle; moveDeal picks one from the target stage.",
    )

error_code_enum(DealErrorCode, "DealErrorCode", "deals")
described_enum(
    DealOrderField,
    "DealOrderField",
    "What deals can be sorted by.",
    {
        "CREATED_AT": "When it was created.",
        "UPDATED_AT": "When it last changed.",
        "NAME": "Name, alphabetically.",
        "EXPECTED_CLOSE_DATE": "Expected close date.",
    },
)


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(description="An opportunity in a pipeline (also called a deal).")
class Deal(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="What is being sold (never empty).")
    status: DealStatusEnum = strawberry.field(
        description="OPEN, WON or LOST: the kind of its stage; changed only by `moveDeal`."
    )
    amount: Decimal = strawberry.field(
        description="Its value in `currency`, at most 2 decimal places."
    )
    currency: str | None = strawberry.field(description="ISO 4217 code of the amount, e.g. EUR.")
    expected_close_date: date = strawberry.field(description="When it is expected to close.")
    competitors: list[str] = strawberry.field(description="Who else is bidding, in order.")
    tags: list[str] = strawberry.field(description="Names from the agency's tag catalogue.")
    close_reason: str = strawberry.field(description="Why it was won or lost.")
    lost_to: str = strawberry.field(
        description="The competitor a lost deal went to (empty: not known, or not lost)."
    )
    closed_at: datetime | None = strawberry.field(
        description="When it was won or lost; null while open."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        """Resolvers return domain records; this type is their GraphQL view."""
        return isinstance(obj, (cls, DealRecord))

    @strawberry.field(description="The Pipeline id its stage belongs to.")
    def pipeline_id(self, root: strawberry.Parent[DealRecord]) -> relay.GlobalID:
        return relay.GlobalID("Pipeline", str(root.pipeline_id))

    @strawberry.field(description="Where the deal is; change it with moveDeal.")
    def stage(self, root: strawberry.Parent[DealRecord]) -> Stage:
        return root.stage  # type: ignore[return-value]

    @strawberry.field(description="Win probability in percent: the stage's.")
    def probability(self, root: strawberry.Parent[DealRecord]) -> int:
        return resolve.deal_probability(root)

    @strawberry.field(description="Amount x probability, for forecasts.")
    def weighted_amount(self, root: strawberry.Parent[DealRecord]) -> Decimal:
        return resolve.deal_weighted_amount(root)

    @strawberry.field(description="The owning sales person's global id (the `User` type).")
    def owner_id(self, root: strawberry.Parent[DealRecord]) -> relay.GlobalID | None:
        return _gid("User", root.owner_id)

    @strawberry.field(description="The lead the deal came from (the `Lead` type).")
    def lead_id(self, root: strawberry.Parent[DealRecord]) -> relay.GlobalID | None:
        return _gid("Lead", root.lead_id)

    @strawberry.field(description="The contact the deal is with (the `Contact` type).")
    def contact_id(self, root: strawberry.Parent[DealRecord]) -> relay.GlobalID | None:
        return _gid("Contact", root.contact_id)

    @strawberry.field(description="The customer it is for (the `Customer` type).")
    def customer_id(self, root: strawberry.Parent[DealRecord]) -> relay.GlobalID | None:
        return _gid("Customer", root.customer_id)

    @strawberry.field(description="The owner (a colleague's name).")
    async def owner(self, info: Info, root: strawberry.Parent[DealRecord]) -> UserSummary | None:
        return await related.colleague(info.context, root.owner_id)  # type: ignore[return-value]

    @strawberry.field(description="The contact, if visible to you.")
    async def contact(
        self, info: Info, root: strawberry.Parent[DealRecord]
    ) -> Annotated[Contact, strawberry.lazy("schema.contacts")] | None:
        return await related.contact(info.context, root.contact_id)  # type: ignore[return-value]

    @strawberry.field(description="The customer, if visible to you.")
    async def customer(
        self, info: Info, root: strawberry.Parent[DealRecord]
    ) -> Annotated[Customer, strawberry.lazy("schema.customers")] | None:
        return await related.customer(info.context, root.customer_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Every live custom field of the record type, with this record's value."
    )
    async def custom_fields(
        self, info: Info, root: strawberry.Parent[DealRecord]
    ) -> list[CustomFieldValue]:
        return await custom_field_values(info.context, CustomFieldRecordType.DEAL, root.id)

    @strawberry.field(description="Documents on this deal, newest first.")
    async def documents(
        self,
        info: Info,
        root: strawberry.Parent[DealRecord],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> relay.Connection[Document]:
        return await documents_of(info, "deal", root.id, first, after)

    @strawberry.field(
        description="Everything about this deal, newest first: notes, documents and status changes."
    )
    async def timeline(
        self,
        info: Info,
        root: strawberry.Parent[DealRecord],
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
    ) -> Annotated[TimelineConnection, strawberry.lazy("schema.timeline")]:
        # Imported here: schema.timeline reaches this module through schema.calling_tasks.
        from schema.timeline import timeline_field

        return await timeline_field(info, "deal", root.id, first, after)

    @strawberry.field(description="Lifecycle events the deal's status allows (see moveDeal).")
    def allowed_events(self, root: strawberry.Parent[DealRecord]) -> list[DealEventEnum]:
        return [DealEvent(e) for e in resolve.deal_allowed_events(root)]


@strawberry.type(description="A problem with the input; nothing was changed.")
class DealError:
    field: str | None = strawberry.field(description="Path of the input field, e.g. reason.")
    code: DealErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class DealPayload:
    deal: Deal | None = payload_record("deal")
    errors: list[DealError] = payload_errors()


@strawberry.input(
    description="A new open deal, in an open stage of a pipeline. Errors: REQUIRED, "
    "TOO_LONG, TOO_MANY, OUT_OF_RANGE, INVALID_CURRENCY, STAGE_CLOSED, "
    "NOT_FOUND, FORBIDDEN."
)
class CreateDealInput:
    name: str = strawberry.field(description="What is being sold: 1 to 200 characters.")
    expected_close_date: date = strawberry.field(description="When it is expected to close.")
    amount: Decimal = strawberry.field(
        default=Decimal(0),
        description="Its value: at least 0, 12 digits before the point and 2 after at most; "
        "0 when left out.",
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217; required with a non-zero amount."
    )
    pipeline_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="Defaults to the agency's default pipeline."
    )
    stage_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="An open stage; defaults to the first open one."
    )
    competitors: list[str] = strawberry.field(
        default_factory=list,
        description="Who else is bidding: at most 20, each 1 to 100 characters.",
    )
    tags: list[str] = strawberry.field(
        default_factory=list, description="At most 20 tags, each 1 to 50 characters."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to the creator."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="The Contact it is with, if any."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="The Customer it is with, if any."
    )
    lead_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="The Lead it came from, if any."
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="Fields left out are unchanged; the stage changes with moveDeal.")
class UpdateDealInput:
    id: relay.GlobalID = node_id()
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters."
    )
    amount: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="At least 0, 12 digits before the point and 2 after at most.",
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217 code (e.g. EUR)."
    )
    expected_close_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="When it is expected to close."
    )
    competitors: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="The whole list: at most 20, each 1 to 100 characters.",
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The whole list: at most 20 tags."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The new owner (a User id); needs the right to reassign.",
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Contact id, or null to unlink."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Customer id, or null to unlink."
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="The deal to delete (soft).")
class DeleteDealInput:
    id: relay.GlobalID = node_id()


@strawberry.input(
    description="The stage's kind decides the event: MOVE (open), WIN (won), LOSE (lost, "
    "needs a reason), REOPEN (from won or lost back to open, admins only)."
)
class MoveDealInput:
    id: relay.GlobalID = node_id()
    stage_id: relay.GlobalID = strawberry.field(description="A stage of the deal's pipeline.")
    reason: str = strawberry.field(default="", description="Why it was won or lost.")
    lost_to: str = strawberry.field(
        default="",
        description="Losing only: the competitor who took the deal (added to its competitors "
        "if not among them).",
    )


@strawberry.input(description="Which deals to list; conditions combine with AND.")
class DealFilter(RecordFilter):
    search: str | None = strawberry.field(
        default=None, description="Part of the name, in any letter case."
    )
    status_in: list[DealStatusEnum] | None = strawberry.field(
        default=None, description="Only deals in one of these statuses."
    )
    pipeline_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only deals in this pipeline."
    )
    stage_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only deals in this stage."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only deals owned by this user."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only deals with this contact."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only deals with this customer."
    )
    lead_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only deals converted from this lead."
    )
    expected_close_after: date | None = strawberry.field(default=None, description="Inclusive.")
    expected_close_before: date | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.input(description="How to sort deals.")
class DealOrder(RecordOrder):
    field: DealOrderField = strawberry.field(
        default=DealOrderField.CREATED_AT,
        description="The field to sort by; CREATED_AT when left out.",
    )


@strawberry.type
class DealQuery:
    @strawberry.field(description="One deal by its global id, or null if not visible.")
    async def deal(self, info: Info, id: RecordId) -> Deal | None:
        return await resolve.deal(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description=f"Deals, newest first by default; at most {MAX_PAGE_SIZE}.")
    async def deals(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[DealFilter | None, FILTER] = None,
        order_by: Annotated[DealOrder | None, ORDER] = None,
    ) -> relay.Connection[Deal]:
        order = order_by or DealOrder()
        return await resolve.deals_page(
            info.context,
            first,
            after,
            filter,
            order.field.value,
            order.direction is OrderDirection.DESC,
            order.custom_field,
        )


def _payload(outcome: Outcome[DealRecord]) -> DealPayload:
    return DealPayload(
        deal=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(DealError, outcome.errors),
    )


@strawberry.type
class DealMutation:
    @strawberry.mutation(description="A new open deal, in an open stage.")
    async def create_deal(
        self, info: Info, input: Annotated[CreateDealInput, MUTATION_INPUT]
    ) -> DealPayload:
        return _payload(await resolve.create_deal(info.context, input))

    @strawberry.mutation(
        description="Change a deal you may edit (not its stage: that is `moveDeal`). Errors "
        "as for createDeal."
    )
    async def update_deal(
        self, info: Info, input: Annotated[UpdateDealInput, MUTATION_INPUT]
    ) -> DealPayload:
        return _payload(await resolve.update_deal(info.context, input))

    @strawberry.mutation(description="Soft delete: the deal disappears from every query.")
    async def delete_deal(
        self, info: Info, input: Annotated[DeleteDealInput, MUTATION_INPUT]
    ) -> DealPayload:
        return _payload(await resolve.delete_deal(info.context, input.id))

    @strawberry.mutation(
        description="Move the deal to another stage of its pipeline: the lifecycle transition. "
        "Illegal moves return INVALID_TRANSITION, a loss without a reason REASON_REQUIRED."
    )
    async def move_deal(
        self, info: Info, input: Annotated[MoveDealInput, MUTATION_INPUT]
    ) -> DealPayload:
        return _payload(await resolve.move_deal(info.context, input))
