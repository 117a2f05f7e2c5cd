"""Calling task service: calls to make to a contact or customer, perhaps about a lead or a
deal, assigned to a person, due at a time, moved through their lifecycle (schedule,
reschedule, complete with an outcome, abort)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.calling_tasks import CallingTask as CallingTask
from db.contacts import Contact
from db.customers import Customer
from db.deals import Deal
from db.leads import Lead
from domain import tags
from domain.actors import Actor
from domain.audit import changed_fields
from domain.custom_field_queries import (
    CustomFieldOrdering,
    records_page,
)
from domain.custom_field_values import custom_values
from domain.errors import DomainError, input_errors
from domain.field_types import LongText, RequiredName, Tags, input_codes
from domain.lifecycles import apply_event
from domain.lifecycles.calling_task import CallingTaskLifecycle
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user
from domain.pagination import Ordering, Page
from domain.policies import may_own, scope
from domain.record_changes import record_created, record_transitioned, record_updated
from domain.record_deletion import soft_delete
from domain.record_filters import RecordFilter, filtered
from domain.roles import Access, Resource, RowScope
from domain.sales_records import locked, scoped, ticket_visible
from domain.users import assignable_owner

AGGREGATE = "calling_task"


class CallingTaskErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    GUARD_FAILED = "GUARD_FAILED"
    FORBIDDEN = "FORBIDDEN"
    # from tags and custom field values (domain.custom_field_values.CustomValueCode)
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    NOT_TEXT = "NOT_TEXT"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    NOT_A_DATE = "NOT_A_DATE"
    NOT_A_BOOLEAN = "NOT_A_BOOLEAN"
    NOT_A_CHOICE = "NOT_A_CHOICE"


_PYDANTIC_CODES = input_codes(CallingTaskErrorCode)


class CallingTaskChanges(BaseModel):
    """What a caller may set directly; status, due time changes after scheduling and the
    outcome go through lifecycle events."""

    model_config = ConfigDict(extra="forbid")

    subject: RequiredName
    contact_id: UUID | None = None
    customer_id: UUID | None = None
    lead_id: UUID | None = None
    deal_id: UUID | None = None
    ticket_id: UUID | None = None
    assignee_id: UUID | None = None
    due_at: datetime | None = None
    notes: LongText = ""
    outcome_notes: LongText = ""
    tags: Tags = []


class CallingTaskFilter(RecordFilter):
    assignee_id: UUID | None = None
    contact_id: UUID | None = None
    customer_id: UUID | None = None
    lead_id: UUID | None = None
    deal_id: UUID | None = None
    ticket_id: UUID | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None


class CallingTaskOrderField(StrEnum):
    CREATED_AT = "created_at"
    DUE_AT = "due_at"


NEWEST_FIRST = Ordering(CallingTaskOrderField.CREATED_AT, descending=True)


def snapshot(task: CallingTask) -> dict[str, Any]:
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return {
        "id": str(task.id),
        "subject": task.subject,
        "contact_id": text(task.contact_id),
        "customer_id": text(task.customer_id),
        "lead_id": text(task.lead_id),
        "deal_id": text(task.deal_id),
        "ticket_id": text(task.ticket_id),
        "assignee_id": text(task.assignee_id),
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "notes": task.notes,
        "outcome_notes": task.outcome_notes,
        "tags": list(task.tags),
        "status": task.status,
    }


def _parse(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    try:
        if partial:
            merged = CallingTaskChanges.model_validate({"subject": "-", **data})
            return merged.model_dump(include=set(data))
        return CallingTaskChanges.model_validate(data).model_dump()
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, CallingTaskErrorCode.INVALID) from exc


def _scoped(actor: Actor, access: Access = Access.READ) -> Any:
    return scoped(CallingTask, actor, access, owner_field="assignee_id")


def _not_found(task_id: UUID) -> DomainError:
    return DomainError(CallingTaskErrorCode.NOT_FOUND, f"No calling task with id {task_id}.", "id")


_LINKED: tuple[tuple[str, type[Model]], ...] = (
    ("contact_id", Contact),
    ("customer_id", Customer),
    ("lead_id", Lead),
    ("deal_id", Deal),
)


async def _visible(
    actor: Actor, model: type[Model], record_id: UUID, conn: BaseDBAsyncClient
) -> bool:
    return await scoped(model, actor).using_db(conn).filter(id=record_id).exists()


async def _check_links(actor: Actor, fields: dict[str, Any], conn: BaseDBAsyncClient) -> None:
    """The task names only contacts, customers, leads and deals the actor can see, and is
    assigned to someone the actor may hand work to."""
    for field, model in _LINKED:
        value = fields.get(field)
        if value is not None and not await _visible(actor, model, value, conn):
            raise DomainError(CallingTaskErrorCode.NOT_FOUND, f"No such {field[:-3]}.", field)
    ticket = fields.get("ticket_id")
    if ticket is not None and not await ticket_visible(actor, ticket, conn):
        raise DomainError(CallingTaskErrorCode.NOT_FOUND, "No such ticket.", "ticket_id")
    if "assignee_id" in fields:
        if not may_own(actor, Resource.SALES_RECORDS, fields["assignee_id"]):
            raise DomainError(
                CallingTaskErrorCode.FORBIDDEN,
                "You may not assign calls to that person.",
                "assignee_id",
            )
        if not await assignable_owner(actor, fields["assignee_id"]):
            raise DomainError(
                CallingTaskErrorCode.NOT_FOUND, "No active user with that id.", "assignee_id"
            )


async def get_calling_task(actor: Actor, task_id: UUID) -> CallingTask:
    task: CallingTask | None = await _scoped(actor).get_or_none(id=task_id)
    if task is None:
        raise _not_found(task_id)
    return task


async def tasks_of_tickets(
    actor: Actor, ticket_ids: Sequence[UUID]
) -> dict[UUID, list[CallingTask]]:
    """The calling tasks linked to tickets the actor has been shown, those the actor may read,
    in one query, by due time (unscheduled last)."""
    if scope(actor, Resource.SALES_RECORDS, Access.READ) is RowScope.NONE:
        return {}
    found: dict[UUID, list[CallingTask]] = {}
    linked = _scoped(actor).filter(ticket_id__in=list(ticket_ids))
    for task in await linked.order_by("due_at", "created_at", "id"):
        if task.ticket_id is not None:
            found.setdefault(task.ticket_id, []).append(task)
    return found


async def list_calling_tasks(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering | CustomFieldOrdering = NEWEST_FIRST,
) -> Page[CallingTask]:
    query = _scoped(actor)
    if criteria is not None:
        try:
            where = CallingTaskFilter.model_validate(criteria)
        except ValidationError as exc:
            raise input_errors(exc, _PYDANTIC_CODES, CallingTaskErrorCode.INVALID) from exc
        if where.due_after is not None:
            query = query.filter(due_at__gte=where.due_after)
        if where.due_before is not None:
            query = query.filter(due_at__lt=where.due_before)
        exact = {"assignee_id", "contact_id", "customer_id", "lead_id", "deal_id", "ticket_id"}
        query = await filtered(query, actor, AGGREGATE, where, exact)
    return await records_page(actor, AGGREGATE, query, ordering, first, after)


async def _whom_to_call(actor: Actor, fields: dict[str, Any], conn: BaseDBAsyncClient) -> None:
    """A call about a deal or a lead that names nobody calls the deal's (else the lead's)
    contact and customer, those of them the actor can see. Links were checked: the deal or
    lead itself is one the actor can see."""
    if fields["contact_id"] is not None or fields["customer_id"] is not None:
        return
    for field, model in (("deal_id", Deal), ("lead_id", Lead)):
        if fields[field] is None:
            continue
        about = await model.filter(id=fields[field]).using_db(conn).get()
        found = False
        for link, link_model in (("contact_id", Contact), ("customer_id", Customer)):
            value = getattr(about, link)
            if value is not None and await _visible(actor, link_model, value, conn):
                fields[link], found = value, True
        if found:
            return
    raise DomainError(
        CallingTaskErrorCode.REQUIRED,
        "Say whom to call: a contact or a customer (or a lead or deal that has one).",
        "contact_id",
    )


async def create_calling_task(actor: Actor, data: dict[str, Any]) -> CallingTask:
    """A new call about a contact or a customer (or a lead or a deal, calling its contact),
    assigned to its creator unless told."""
    data, custom = await custom_values(actor, AGGREGATE, data, creating=True)
    fields = _parse(data, partial=False)
    if "assignee_id" not in data:
        fields["assignee_id"] = actor.user_id
    async with in_transaction() as conn:
        await _check_links(actor, fields, conn)
        await _whom_to_call(actor, fields, conn)
        task = CallingTask(agency_id=actor.agency_id, **fields)
        task.tags = await tags.tag_record(actor, AGGREGATE, task.id, task.tags, conn)
        await task.save(using_db=conn)
        after = {**snapshot(task), **await custom.write(actor, task.id, conn)}
        await record_created(actor, AGGREGATE, str(task.id), after, conn)
        await _tell_assignee(actor, task, conn)
    return task


async def insert_calling_task(actor: Actor, task: CallingTask, conn: BaseDBAsyncClient) -> None:
    """Write a task the CRM makes by itself (a pipeline stage's activity), in the caller's
    transaction, with its audit row and event; its assignee hears of it."""
    await task.save(using_db=conn)
    await record_created(actor, AGGREGATE, str(task.id), snapshot(task), conn)
    await _tell_assignee(actor, task, conn)


async def update_calling_task(actor: Actor, task_id: UUID, data: dict[str, Any]) -> CallingTask:
    data, custom = await custom_values(actor, AGGREGATE, data, creating=False)
    fields = _parse(data, partial=True)
    async with in_transaction() as conn:
        task = await _locked(actor, task_id, conn)
        await _check_links(actor, fields, conn)
        if "tags" in fields:
            fields["tags"] = await tags.tag_record(actor, AGGREGATE, task.id, fields["tags"], conn)
        before = {**snapshot(task), **await custom.current(task.id, conn)}
        task.update_from_dict(fields)
        if task.contact_id is None and task.customer_id is None:
            raise DomainError(
                CallingTaskErrorCode.REQUIRED, "A call needs a contact or a customer.", "contact_id"
            )
        await task.save(using_db=conn)
        after = {**snapshot(task), **await custom.write(actor, task.id, conn)}
        old, new = changed_fields(before, after)
        if new:
            await record_updated(actor, AGGREGATE, str(task.id), old, new, conn)
        if "assignee_id" in new:
            await _tell_assignee(actor, task, conn)
    return task


async def _tell_assignee(actor: Actor, task: CallingTask, conn: BaseDBAsyncClient) -> None:
    """Someone else gave you a call to make: you hear of it (as your settings say)."""
    if task.assignee_id is None or task.assignee_id == actor.user_id:
        return
    due = f", due {task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else ""
    await notify_user(
        actor,
        task.assignee_id,
        f"A calling task for you: {task.subject}{due}.",
        AGGREGATE,
        str(task.id),
        actor.id,
        conn,
        NotificationKind.CALLING_TASK_ASSIGNED,
    )


async def delete_calling_task(actor: Actor, task_id: UUID) -> CallingTask:
    async with in_transaction() as conn:
        task = await _locked(actor, task_id, conn)
        await soft_delete(actor, task, AGGREGATE, snapshot, conn)
    return task


async def transition_calling_task(
    actor: Actor,
    task_id: UUID,
    event: str,
    due_at: datetime | None = None,
    outcome_notes: str | None = None,
) -> CallingTask:
    """Schedule / reschedule (with a future due time), complete (with outcome notes), abort."""
    async with in_transaction() as conn:
        task = await _locked(actor, task_id, conn)
        before = snapshot(task)
        facts: dict[str, Any] = {
            "due_at": due_at or (task.due_at if event == "schedule" else None),
            "now": datetime.now(UTC),
            "outcome_notes": (outcome_notes or task.outcome_notes)[:10_000],
        }
        await apply_event(
            CallingTaskLifecycle, task, event, CallingTaskErrorCode.INVALID_TRANSITION, facts=facts
        )
        if event in ("schedule", "reschedule"):
            task.due_at = facts["due_at"]
        if event == "reschedule":
            task.reschedule_count += 1
        if outcome_notes is not None:
            task.outcome_notes = facts["outcome_notes"]
        await task.save(using_db=conn)
        audited = changed_fields(before, snapshot(task))
        change = {"event": event, "from": before["status"], "to": task.status}
        await record_transitioned(actor, AGGREGATE, str(task.id), event, audited, change, conn)
    return task


async def _locked(actor: Actor, task_id: UUID, conn: BaseDBAsyncClient) -> CallingTask:
    """Read for writing (row-locked); visible but not changeable is FORBIDDEN."""
    return await locked(
        CallingTask,
        actor,
        task_id,
        conn,
        CallingTaskErrorCode,
        "calling task",
        owner_field="assignee_id",
    )
