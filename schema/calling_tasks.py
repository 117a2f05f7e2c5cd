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
described_enum(
    CallingTaskOrderField,
    "CallingTaskOrderField",
    "What calling tasks can be sorted by.",
    {"CREATED_AT": "When it was created.", "DUE_AT": "Due time."},
)


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(
    description="A call to make to a contact or a customer, perhaps about a lead or a deal."
)
class CallingTask(relay.Node):
    id: relay.NodeID[str] = node_id()
    subject: str = strawberry.field(description="What the call is about (never empty).")
    due_at: datetime | None = strawberry.field(
        description="When the call should be made; null when not scheduled."
    )
    notes: str = strawberry.field(description="What the call is for (briefing for the caller).")
    outcome_notes: str = strawberry.field(
        description="What came of the call, written when it is done or aborted."
    )
    reschedule_count: int = strawberry.field(description="How many times it was re-scheduled.")
    tags: list[str] = strawberry.field(description="Names from the agency's tag catalogue.")
    status: CallingTaskStatusEnum = strawberry.field(
        description="Where the task is in its lifecycle; changed only by `transitionCallingTask`."
    )
    required: bool = strawberry.field(
        description="Made by a required activity of its deal's stage: the deal cannot leave "
        "the stage (but to a lost one) until it is done or aborted."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, CallingTaskRecord))

    @strawberry.field(description="The Contact id it is about, if any.")
    def contact_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Contact", root.contact_id)

    @strawberry.field(description="The Customer id it is about, if any.")
    def customer_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Customer", root.customer_id)

    @strawberry.field(description="The Lead id it is about, if any.")
    def lead_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Lead", root.lead_id)

    @strawberry.field(description="The Deal id it is about, if any.")
    def deal_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Deal", root.deal_id)

    @strawberry.field(description="The Ticket it is part of, if any.")
    def ticket_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Ticket", root.ticket_id)

    @strawberry.field(description="The pipeline Stage whose activity made it, if one did.")
    def stage_id(self, root: strawberry.Parent[CallingTaskRecord]) -> relay.GlobalID | None:
        return _gid("Stage", root.stage_id)

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

    @strawberry.field(description="Who is to make the call.")
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


@strawberry.input(
    description="A new calling task (status NEW, or SCHEDULED with `dueAt`), about a contact "
    "or a customer and perhaps a lead or a deal. Errors: REQUIRED, TOO_LONG, "
    "TOO_MANY, NOT_FOUND, FORBIDDEN."
)
class CreateCallingTaskInput:
    subject: str = strawberry.field(description="What the call is about: 1 to 200 characters.")
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The Contact to call (this or `customerId`)."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The Customer to call (this or `contactId`)."
    )
    lead_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The Lead the call is about, if any."
    )
    deal_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="With neither contactId nor customerId, the call goes to the deal's (else "
        "the lead's) contact and customer.",
    )
    ticket_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The support Ticket it is part of, if any (one you may read)."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to the creator."
    )
    due_at: datetime | None = strawberry.field(
        default=None, description="When to call; left out: not scheduled yet."
    )
    notes: str = strawberry.field(default="", description="At most 10,000 characters.")
    tags: list[str] = strawberry.field(
        default_factory=list, description="At most 20 tags, each 1 to 50 characters."
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="Fields left out are unchanged; status moves by events only.")
class UpdateCallingTaskInput:
    id: relay.GlobalID = node_id()
    subject: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Contact id, or null to unlink."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Customer id, or null to unlink."
    )
    lead_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Lead id, or null to unlink."
    )
    deal_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Deal id, or null to unlink."
    )
    ticket_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Ticket id, or null to unlink."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The user to give the task to (a User id); needs the right to reassign.",
    )
    notes: str | None = strawberry.field(
        default=strawberry.UNSET, description="At most 10,000 characters."
    )
    tags: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description="The whole list: at most 20 tags."
    )
    custom_fields: list[CustomFieldValueInput] | None = strawberry.field(
        default=strawberry.UNSET, description="Values of the agency's custom fields."
    )


@strawberry.input(description="The calling task to delete (soft).")
class DeleteCallingTaskInput:
    id: relay.GlobalID = node_id()


@strawberry.input(
    description="SCHEDULE and RESCHEDULE take a future dueAt; COMPLETE takes outcomeNotes."
)
class TransitionCallingTaskInput:
    id: relay.GlobalID = node_id()
    event: CallingTaskEventEnum = strawberry.field(
        description="The event; `allowedEvents` on the task lists those possible now."
    )
    due_at: datetime | None = strawberry.field(
        default=None, description="The new time, for SCHEDULE and RESCHEDULE (required there)."
    )
    outcome_notes: str | None = strawberry.field(
        default=None,
        description="What came of the call, for DONE and ABORT; at most 10,000 characters.",
    )


@strawberry.input(description="Which calling tasks to list; conditions combine with AND.")
class CallingTaskFilter(RecordFilter):
    search: str | None = strawberry.field(
        default=None, description="Part of the subject or outcome notes, in any letter case."
    )
    status_in: list[CallingTaskStatusEnum] | None = strawberry.field(
        default=None, description="Only tasks in one of these statuses."
    )
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tasks given to this user (a User id)."
    )
    contact_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tasks about this contact."
    )
    customer_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tasks about this customer."
    )
    lead_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tasks about this lead."
    )
    deal_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tasks about this deal."
    )
    ticket_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only tasks linked to this ticket."
    )
    due_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    due_before: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.input(description="How to sort calling tasks.")
class CallingTaskOrder(RecordOrder):
    field: CallingTaskOrderField = strawberry.field(
        default=CallingTaskOrderField.CREATED_AT,
        description="The field to sort by; CREATED_AT when left out.",
    )


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
    @strawberry.mutation(
        description="Create a calling task, given to you unless `assigneeId` says otherwise. "
        "Errors: see CreateCallingTaskInput."
    )
    async def create_calling_task(
        self, info: Info, input: Annotated[CreateCallingTaskInput, MUTATION_INPUT]
    ) -> CallingTaskPayload:
        return _payload(await resolve.create_calling_task(info.context, input))

    @strawberry.mutation(
        description="Change a calling task you may edit: only the fields given. Errors as "
        "for createCallingTask."
    )
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
