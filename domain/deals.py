"""Deal (opportunity) service: create, read, list, update, soft-delete and move deals between
the stages of their pipeline.

Moving is the deal lifecycle's transition: the target stage's kind picks the event (MOVE, WIN,
LOSE, REOPEN) and the machine's guards decide. Every write runs in one transaction with its
audit row and domain event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar
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
from db.customers import Customer
from db.deals import Deal as Deal
from db.leads import Lead
from db.pipelines import Stage
from domain import tags
from domain.actors import Actor
from domain.audit import changed_fields
from domain.custom_field_queries import (
    CustomFieldOrdering,
    records_page,
)
from domain.custom_field_values import CustomValues, custom_values
from domain.deal_stage_changes import record_stage_entry
from domain.errors import DomainError, input_errors, validated
from domain.field_types import Tags, distinct, input_codes
from domain.lifecycles import allowed_events, apply_event
from domain.lifecycles.deal import DealLifecycle, event_towards
from domain.money import Amount, Currency, money_codes, weighted
from domain.pagination import Ordering, Page
from domain.pipelines import ensure_default_pipeline, entry_stage
from domain.record_changes import record_created, record_transitioned, record_updated
from domain.record_deletion import soft_delete
from domain.record_filters import RecordFilter, filtered
from domain.roles import Access, Role
from domain.sales_records import check_links, check_owner, locked, scoped
from domain.stage_activities import check_required_done, open_stage_activities

AGGREGATE = "deal"


class DealErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_CURRENCY = "INVALID_CURRENCY"
    STAGE_CLOSED = "STAGE_CLOSED"
    SAME_STAGE = "SAME_STAGE"
    ACTIVITIES_OPEN = "ACTIVITIES_OPEN"
    REASON_REQUIRED = "REASON_REQUIRED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    FORBIDDEN = "FORBIDDEN"
    # from custom field values (domain.custom_field_values.CustomValueCode)
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    NOT_TEXT = "NOT_TEXT"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    NOT_A_DATE = "NOT_A_DATE"
    NOT_A_BOOLEAN = "NOT_A_BOOLEAN"
    NOT_A_CHOICE = "NOT_A_CHOICE"


_PYDANTIC_CODES = {**input_codes(DealErrorCode), **money_codes(DealErrorCode)}

Command = TypeVar("Command", bound=BaseModel)
DealName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Competitor = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class DealChanges(BaseModel):
    """Fields a caller may set; on update only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    name: DealName
    amount: Amount = Decimal(0)
    currency: Currency | None = None
    expected_close_date: date
    competitors: Annotated[list[Competitor], Field(max_length=20), AfterValidator(distinct)] = []
    owner_id: UUID | None = None
    contact_id: UUID | None = None
    customer_id: UUID | None = None
    tags: Tags = []


class NewDeal(DealChanges):
    """Where a deal starts (an open stage; by default the default pipeline's first) and what
    it came from."""

    pipeline_id: UUID | None = None
    stage_id: UUID | None = None
    lead_id: UUID | None = None


class MoveDeal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage_id: UUID
    reason: Reason = ""
    # Losing only: the competitor who took the deal (added to its competitors if new).
    lost_to: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""


class DealOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"
    EXPECTED_CLOSE_DATE = "expected_close_date"


class DealFilter(RecordFilter):
    pipeline_id: UUID | None = None
    stage_id: UUID | None = None
    owner_id: UUID | None = None
    contact_id: UUID | None = None
    customer_id: UUID | None = None
    lead_id: UUID | None = None
    expected_close_after: date | None = None  # inclusive
    expected_close_before: date | None = None  # exclusive


NEWEST_FIRST = Ordering(DealOrderField.CREATED_AT, descending=True)


def probability(deal: Deal) -> int:
    """The deal's chance of being won, in percent: its stage's."""
    return int(deal.stage.probability)


def weighted_amount(deal: Deal) -> Decimal:
    """What the deal is worth to a forecast: amount x probability."""
    return weighted(deal.amount, probability(deal))


def snapshot(deal: Deal) -> dict[str, Any]:
    """The deal's fields as JSON values, for audit rows and event payloads."""

    def text(value: Any) -> str | None:
        return str(value) if value is not None else None

    return {
        "id": str(deal.id),
        "name": deal.name,
        "pipeline_id": text(deal.pipeline_id),
        "stage_id": text(deal.stage_id),
        "status": deal.status,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date.isoformat(),
        "competitors": list(deal.competitors),
        "close_reason": deal.close_reason,
        "lost_to": deal.lost_to,
        "tags": list(deal.tags),
        "owner_id": text(deal.owner_id),
        "lead_id": text(deal.lead_id),
        "contact_id": text(deal.contact_id),
        "customer_id": text(deal.customer_id),
    }


def _validate(model: type[Command], data: dict[str, Any]) -> Command:
    return validated(model, data, _PYDANTIC_CODES, DealErrorCode.INVALID)


def _parse(data: dict[str, Any]) -> dict[str, Any]:
    return _validate(NewDeal, data).model_dump()


def _parse_changes(data: dict[str, Any]) -> dict[str, Any]:
    """Validate only the fields given (the required ones get placeholders)."""
    placeholders = {"name": "-", "expected_close_date": date.min}
    checked = _validate(DealChanges, {**placeholders, **data})
    return checked.model_dump(include=set(data))


def check_currency(amount: Decimal, currency: str | None, codes: type[StrEnum]) -> None:
    """An amount means nothing without its currency (zero needs none)."""
    if amount and not currency:
        raise DomainError(
            codes("REQUIRED"), "Give the currency of the amount (ISO 4217, e.g. EUR).", "currency"
        )


def _scoped(actor: Actor, access: Access = Access.READ) -> Any:
    return scoped(Deal, actor, access)


async def _check_owner(actor: Actor, owner_id: UUID | None) -> None:
    await check_owner(actor, owner_id, DealErrorCode, "deals")


async def _check_links(actor: Actor, fields: dict[str, Any]) -> None:
    """The contact, customer and lead a deal names, among those given."""
    links = {"contact_id": Contact, "customer_id": Customer, "lead_id": Lead}
    await check_links(
        actor,
        {name: (model, fields[name]) for name, model in links.items() if name in fields},
        DealErrorCode,
    )


def _not_found(deal_id: UUID) -> DomainError:
    return DomainError(DealErrorCode.NOT_FOUND, f"No deal with id {deal_id}.", "id")


async def deals_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, Deal]:
    """Batch load for DataLoaders, scoped like every other read (with the stage, as `get_deal`)."""
    found = await _scoped(actor).select_related("stage").filter(id__in=list(ids))
    return {deal.id: deal for deal in found}


async def get_deal(actor: Actor, deal_id: UUID) -> Deal:
    deal: Deal | None = await _scoped(actor).select_related("stage").get_or_none(id=deal_id)
    if deal is None:
        raise _not_found(deal_id)
    return deal


async def list_deals(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering | CustomFieldOrdering = NEWEST_FIRST,
) -> Page[Deal]:
    query = _scoped(actor).select_related("stage")
    if criteria is not None:
        try:
            where = DealFilter.model_validate(criteria)
        except ValidationError as exc:
            raise input_errors(exc, _PYDANTIC_CODES, DealErrorCode.INVALID) from exc
        if where.expected_close_after is not None:
            query = query.filter(expected_close_date__gte=where.expected_close_after)
        if where.expected_close_before is not None:
            query = query.filter(expected_close_date__lt=where.expected_close_before)
        exact = {"pipeline_id", "stage_id", "owner_id", "contact_id", "customer_id", "lead_id"}
        query = await filtered(query, actor, AGGREGATE, where, exact)
    return await records_page(actor, AGGREGATE, query, ordering, first, after)


async def insert_deal(
    actor: Actor,
    fields: dict[str, Any],
    stage: Stage,
    conn: BaseDBAsyncClient,
    custom: CustomValues | None = None,
) -> Deal:
    """Write a new deal in `stage`, with its audit row and event, on the caller's transaction.

    `fields` and `custom` are validated already; the lead service calls this when it converts
    a lead.
    """
    deal = Deal(agency_id=actor.agency_id, pipeline_id=stage.pipeline_id, stage=stage, **fields)
    deal.tags = await tags.tag_record(actor, AGGREGATE, deal.id, deal.tags, conn)
    await deal.save(using_db=conn)
    written = await custom.write(actor, deal.id, conn) if custom is not None else {}
    after = {**snapshot(deal), **written}
    await record_created(actor, AGGREGATE, str(deal.id), after, conn)
    await record_stage_entry(actor, deal, None, deal.created_at, conn)
    await open_stage_activities(actor, deal, stage, conn)
    return deal


async def create_deal(actor: Actor, data: dict[str, Any]) -> Deal:
    """A new open deal, owned by its creator unless another owner is given."""
    data, custom = await custom_values(actor, AGGREGATE, data, creating=True)
    fields = _parse(data)
    if "owner_id" not in data:
        fields["owner_id"] = actor.user_id
    check_currency(fields["amount"], fields["currency"], DealErrorCode)
    await _check_owner(actor, fields["owner_id"])
    await _check_links(actor, fields)
    pipeline_id, stage_id = fields.pop("pipeline_id"), fields.pop("stage_id")
    if pipeline_id is None and stage_id is None:
        await ensure_default_pipeline(actor.agency_id)
    async with in_transaction() as conn:
        stage = await entry_stage(actor, pipeline_id, stage_id, conn)
        return await insert_deal(actor, fields, stage, conn, custom)


async def update_deal(actor: Actor, deal_id: UUID, data: dict[str, Any]) -> Deal:
    """Change the deal's details; its stage changes only through `move_deal`."""
    data, custom = await custom_values(actor, AGGREGATE, data, creating=False)
    fields = _parse_changes(data)
    if "owner_id" in fields:
        await _check_owner(actor, fields["owner_id"])
    await _check_links(actor, fields)
    async with in_transaction() as conn:
        deal = await _locked(actor, deal_id, conn)
        if "tags" in fields:
            fields["tags"] = await tags.tag_record(actor, AGGREGATE, deal.id, fields["tags"], conn)
        before = {**snapshot(deal), **await custom.current(deal.id, conn)}
        deal.update_from_dict(fields)
        check_currency(deal.amount, deal.currency, DealErrorCode)
        await deal.save(using_db=conn)
        after = {**snapshot(deal), **await custom.write(actor, deal.id, conn)}
        old, new = changed_fields(before, after)
        if new:
            await record_updated(actor, AGGREGATE, str(deal.id), old, new, conn)
    return deal


async def delete_deal(actor: Actor, deal_id: UUID) -> Deal:
    """Soft delete: the row stays for audit and undo, but no query returns it."""
    async with in_transaction() as conn:
        deal = await _locked(actor, deal_id, conn)
        await soft_delete(actor, deal, AGGREGATE, snapshot, conn)
    return deal


async def move_deal(actor: Actor, deal_id: UUID, data: dict[str, Any]) -> Deal:
    """Move the deal to another stage of its pipeline: the lifecycle event the stage implies.

    Losing needs a reason (REASON_REQUIRED); leaving a won or lost stage needs an admin;
    leaving a stage (but for a lost one) waits for its required activities (ACTIVITIES_OPEN).
    The new stage's activities become the owner's calling tasks.
    Status, stage, audit row and event commit together or not at all.
    """
    command = _validate(MoveDeal, data)
    async with in_transaction() as conn:
        deal = await _locked(actor, deal_id, conn)
        stage: Stage | None = (
            await Stage.filter(
                id=command.stage_id, pipeline_id=deal.pipeline_id, deleted_at__isnull=True
            )
            .using_db(conn)
            .first()
        )
        if stage is None:
            raise DomainError(
                DealErrorCode.NOT_FOUND, "No such stage in the deal's pipeline.", "stage_id"
            )
        if stage.id == deal.stage_id:
            raise DomainError(DealErrorCode.SAME_STAGE, "The deal is in that stage.", "stage_id")
        await check_required_done(deal, stage, DealErrorCode.ACTIVITIES_OPEN, conn)
        before = snapshot(deal)
        event = _event_towards(deal, stage)
        now = datetime.now(UTC)
        facts = {"reason": command.reason, "by_admin": Role.ADMIN in actor.roles, "now": now}
        await apply_event(DealLifecycle, deal, event, DealErrorCode.INVALID_TRANSITION, facts=facts)
        _record_lost_to(deal, event, command.lost_to)
        deal.stage = stage
        await deal.save(
            using_db=conn,
            update_fields=[
                "status",
                "stage_id",
                "close_reason",
                "lost_to",
                "competitors",
                "closed_at",
                "updated_at",
            ],
        )
        change = {
            "event": event,
            "from": before["status"],
            "to": deal.status,
            "from_stage_id": before["stage_id"],
            "to_stage_id": str(stage.id),
            "reason": command.reason,
        }
        audited = changed_fields(before, snapshot(deal))
        await record_transitioned(actor, AGGREGATE, str(deal.id), event, audited, change, conn)
        await record_stage_entry(actor, deal, UUID(before["stage_id"]), now, conn)
        await open_stage_activities(actor, deal, stage, conn)
    return deal


def _record_lost_to(deal: Deal, event: str, lost_to: str) -> None:
    """Who took a lost deal: named when losing only, forgotten when it is reopened."""
    if lost_to and event != "lose":
        raise DomainError(
            DealErrorCode.INVALID, "Only a deal being lost goes to a competitor.", "lost_to"
        )
    if event == "lose":
        deal.lost_to = lost_to
        if lost_to and lost_to not in deal.competitors:
            deal.competitors = [*deal.competitors, lost_to]
    elif event == "reopen":
        deal.lost_to = ""


def _event_towards(deal: Deal, stage: Stage) -> str:
    event = event_towards(deal.status, stage.kind)
    if event is None:
        allowed = allowed_events(DealLifecycle, deal.status)
        raise DomainError(
            DealErrorCode.INVALID_TRANSITION,
            f"A {deal.status.upper()} deal cannot move to a {stage.kind} stage; allowed: "
            f"{', '.join(e.upper() for e in allowed)}.",
            "stage_id",
            details={"allowedEvents": allowed},
        )
    return event


async def _locked(actor: Actor, deal_id: UUID, conn: BaseDBAsyncClient) -> Deal:
    """Read for writing (row-locked); visible but not changeable is FORBIDDEN. Its stage is
    fetched after the lock (PostgreSQL locks no outer-joined rows)."""
    deal = await locked(Deal, actor, deal_id, conn, DealErrorCode, "deal")
    await deal.fetch_related("stage", using_db=conn)
    return deal
