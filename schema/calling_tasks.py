"""Calling task types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.calling_tasks import CallingTask as CallingTaskRecord
from domain.calling_tasks import CallingTaskErrorCode, CallingTaskOrderField
from domain.custom_fields import CustomFieldRecordType
from domain.lifecycles.calling_task import CallingTaskEvent, CallingTaskLifecycle, CallingTaskStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import calling_tasks as resolve
from resolvers import related
from resolvers.errors import Outcome
from schema.custom_fields import (
    CustomFieldValue,
    CustomFieldValueInput,
    custom_field_values,
)
from schema.enum_values import error_code_enum, lifecycle_enums
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
    from schema.contacts import Contact
    from schema.customers import Customer
    from schema.deals import Deal
    from schema.leads import Lead

    CallingTaskStatusEnum = StrEnum
    CallingTaskEventEnum = StrEnum
else:
    CallingTaskStatusEnum, CallingTaskEventEnum = lifecycle_enums(
        CallingTaskLifecycle, CallingTaskStatus, CallingTaskEvent, "CallingTask"
    )

error_code_enum(CallingTaskErrorCode, "CallingTaskErrorCode", "calling tasks")
strawberry.enum(CallingTaskOrderField, name="CallingTaskOrderField")


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(
    description="A call to make to a contact or a customer, perhaps about a lead or a deal."
)
class CallingTask(relay.Node):
    id: relay.NodeID[str] = node_id()
    subject: str
    due_at: datetime | None
    notes: str = strawberry.field(description="What the call is for (briefing for the caller).")
    outcome_notes: str
    reschedule_count: int
    tags: list[str] = strawberry.field(description="Names from the agency's tag catalogue.")
    status: CallingTaskStatusEnum
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, CallingTaskRecord))

    @strawberry.field
    def contact_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Contact", root.contact_id)

    @strawberry.field
    def customer_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Customer", root.customer_id)

    @strawberry.field
    def lead_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Lead", root.lead_id)

    @strawberry.field
    def deal_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Deal", root.deal_id)

    @strawberry.field(description="The lead the call is about, if visible to you.")
    async def lead(
        self, info: Info, root: strawberry.Parent[CallingTaskRecord]
    ) -> Annotated[Lead, strawberry.lazy("schema.leads")] | None:
        return await related.lead(info.context, root.lead_id)  # type: ignore[return-value]

    @strawberry.field(description="The deal the call is about, if visible to you.")
    async def deal(
        self, info: Info, root: strawberry.Parent[CallingTaskRecord]
    ) -> Annotated[Deal, strawberry.lazy("schema.deals")] | None:
        return await related.deal(info.context, root.deal_id)  # type: ignore[return-value]

    @strawberry.field(description="The contact, if visible to you.")
    async def contact(
        self, info: Info, root: strawberry.Parent[CallingTaskRecord]
    ) -> Annotated[Contact, strawberry.lazy("schema.contacts")] | None:
        return await related.contact(info.context, root.contact_id)  # type: ignore[return-value]

    @strawberry.field(description="The customer, if visible to you.")
    async def customer(
        self, info: Info, root: strawberry.Parent[CallingTaskRecord]
    ) -> Annotated[Customer, strawberry.lazy("schema.customers")] | None:
        return await related.customer(info.context, root.customer_id)  # type: ignore[return-value]

    @strawberry.field
    async def assignee(
        self, info: Info, root: strawberry.Parent[CallingTaskRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.assignee_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Every live custom field of the record type, with this record's value."
    )
    async def custom_fields(
        self, info: Info, root: strawberry.Parent[CallingTaskRecord]
    ) -> list[CustomFieldValue]:
        return await custom_field_values(info.context, CustomFieldRecordType.CALLING_TASK, root.id)

    @strawberry.field(description="Events that may be applied to this task now.")
    def allowed_events(
        self, root: strawberry.Parent[CallingTaskRecord]
    ) -> list[CallingTaskEventEnum]:
        return [CallingTaskEvent(e) for e in resolve.calling_task_allowed_events(root)]


@strawberry.type(description="A problem with the input; nothing was changed.")
class CallingTaskError:
    field: str | None = error_field()
    code: CallingTaskErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class CallingTaskPayload:
    calling_task: CallingTask | None = payload_record("calling task")
    errors: list[CallingTaskError] = payload_errors()


def _payload(outcome: Outcome[CallingTaskRecord]) -> CallingTaskPayload:
    return CallingTaskPayload(
        calling_task=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(CallingTaskError, outcome.errors),
    )


@strawberry.input
class CreateCallingTaskInput:
    subject: str
    contact_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None
    lead_id: relay.GlobalID | None = None
    deal_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="With neither contactId nor customerId, the call goes to the deal's (else "
        "the lead's) contact and customer.",
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to the creator."
    )
    due_at: datetime | None = None
    notes: str = ""
    tags: list[str] = strawberry.field(default_factory=list)
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="Fields left out are unchanged; status moves by events only.")
class UpdateCallingTaskInput:
    id: relay.GlobalID = node_id()
    subject: str | None = strawberry.UNSET
    contact_id: relay.GlobalID | None = strawberry.UNSET
    customer_id: relay.GlobalID | None = strawberry.UNSET
    lead_id: relay.GlobalID | None = strawberry.UNSET
    deal_id: relay.GlobalID | None = strawberry.UNSET
    assignee_id: relay.GlobalID | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input
class DeleteCallingTaskInput:
    id: relay.GlobalID = node_id()


@strawberry.input(
    description="SCHEDULE and RESCHEDULE take a future dueAt; COMPLETE takes outcomeNotes."
)
class TransitionCallingTaskInput:
    id: relay.GlobalID = node_id()
    event: CallingTaskEventEnum
    due_at: datetime | None = None
    outcome_notes: str | None = None


@strawberry.input
class CallingTaskFilter(RecordFilter):
    search: str | None = strawberry.field(
        default=None, description="Part of the subject or outcome notes, in any letter case."
    )
    status_in: list[CallingTaskStatusEnum] | None = None
    assignee_id: relay.GlobalID | None = None
    contact_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None
    lead_id: relay.GlobalID | None = None
    deal_id: relay.GlobalID | None = None
    due_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    due_before: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.input
class CallingTaskOrder(RecordOrder):
    field: CallingTaskOrderField = CallingTaskOrderField.CREATED_AT


@strawberry.type
class CallingTaskQuery:
    @strawberry.field(description="One calling task by its global id, or null if not visible.")
    async def calling_task(self, info: Info, id: RecordId) -> CallingTask | None:
        return await resolve.calling_task(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description=f"Calling tasks; at most {MAX_PAGE_SIZE} a page.")
    async def calling_tasks(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[CallingTaskFilter | None, FILTER] = None,
        order_by: Annotated[CallingTaskOrder | None, ORDER] = None,
    ) -> relay.Connection[CallingTask]:
        order = order_by or CallingTaskOrder()
        return await resolve.calling_tasks_page(
            info.context,
            first,
            after,
            filter,
            order.field.value,
            order.direction is OrderDirection.DESC,
            order.custom_field,
        )


@strawberry.type
class CallingTaskMutation:
    @strawberry.mutation
    async def create_calling_task(
        self, info: Info, input: Annotated[CreateCallingTaskInput, MUTATION_INPUT]
    ) -> CallingTaskPayload:
        return _payload(await resolve.create_calling_task(info.context, input))

    @strawberry.mutation
    async def update_calling_task(
        self, info: Info, input: Annotated[UpdateCallingTaskInput, MUTATION_INPUT]
    ) -> CallingTaskPayload:
        return _payload(await resolve.update_calling_task(info.context, input))

    @strawberry.mutation(description="Soft delete.")
    async def delete_calling_task(
        self, info: Info, input: Annotated[DeleteCallingTaskInput, MUTATION_INPUT]
    ) -> CallingTaskPayload:
        return _payload(await resolve.delete_calling_task(info.context, input.id))

    @strawberry.mutation(description="Apply a lifecycle event (see the input's description).")
    async def transition_calling_task(
        self, info: Info, input: Annotated[TransitionCallingTaskInput, MUTATION_INPUT]
    ) -> CallingTaskPayload:
        event = CallingTaskEvent(input.event).value
        outcome = await resolve.transition_calling_task(
            info.context, input.id, event, input.due_at, input.outcome_notes
        )
        return _payload(outcome)
