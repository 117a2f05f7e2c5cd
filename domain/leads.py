"""Lead service: create, read, list, update, soft-delete, move leads through their lifecycle,
and convert a qualified lead into a deal.

A lead is the opportunity before it is qualified: what the prospect wants (services), who
(a contact now, a customer once customers link here), who works it, where it came from and a
rough value. Converting it creates the deal in the same transaction as the lead's CONVERT
transition, so there is never a converted lead without its deal, nor two deals for one lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
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
)
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.contacts import Contact
from db.customers import Customer
from db.leads import Lead as Lead
from domain import deals, tags
from domain.actors import Actor
from domain.audit import changed_fields
from domain.custom_field_queries import (
    CustomFieldOrdering,
    records_page,
)
from domain.custom_field_values import custom_values
from domain.errors import DomainError, validated
from domain.field_types import Tags, distinct, input_codes
from domain.lead_assignment import lead_facts, owner_by_rules, tell_reassigned
from domain.lifecycles import apply_event
from domain.lifecycles.lead import LeadLifecycle
from domain.money import Amount, Currency, money_codes
from domain.pagination import Ordering, Page
from domain.pipelines import ensure_default_pipeline, entry_stage
from domain.record_changes import record_created, record_transitioned, record_updated
from domain.record_deletion import soft_delete
from domain.record_filters import RecordFilter, filtered
from domain.roles import Access
from domain.sales_records import check_links, check_owner, locked, scoped

AGGREGATE = "lead"
CONVERT = "convert"
# A converted deal needs an expected close date; without one given, this far ahead.
DEFAULT_CLOSE_AFTER = timedelta(days=30)


class LeadErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_CURRENCY = "INVALID_CURRENCY"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    GUARD_FAILED = "GUARD_FAILED"
    # from the deal a conversion creates
    STAGE_CLOSED = "STAGE_CLOSED"
    FORBIDDEN = "FORBIDDEN"
    # from custom field values (domain.custom_field_values.CustomValueCode)
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    NOT_TEXT = "NOT_TEXT"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    NOT_A_DATE = "NOT_A_DATE"
    NOT_A_BOOLEAN = "NOT_A_BOOLEAN"
    NOT_A_CHOICE = "NOT_A_CHOICE"


_PYDANTIC_CODES = {**input_codes(LeadErrorCode), **money_codes(LeadErrorCode)}

Command = TypeVar("Command", bound=BaseModel)
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Service = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class LeadChanges(BaseModel):
    """Fields a caller may set; on update only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    services: Annotated[list[Service], Field(max_length=20), AfterValidator(distinct)] = []
    contact_id: UUID | None = None
    customer_id: UUID | None = None
    owner_id: UUID | None = None
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    estimated_value: Amount | None = None
    currency: Currency | None = None
    tags: Tags = []


class LeadConversion(BaseModel):
    """The deal a conversion creates; every field defaults from the lead or the pipeline."""

    model_config = ConfigDict(extra="forbid")

    name: Title | None = None
    pipeline_id: UUID | None = None
    stage_id: UUID | None = None
    amount: Amount | None = None
    currency: Currency | None = None
    expected_close_date: date | None = None


class LeadOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"


class LeadFilter(RecordFilter):
    owner_id: UUID | None = None
    contact_id: UUID | None = None
    customer_id: UUID | None = None
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None


NEWEST_FIRST = Ordering(LeadOrderField.CREATED_AT, descending=True)


def snapshot(lead: Lead) -> dict[str, Any]:
    """The lead's fields as JSON values, for audit rows and event payloads."""

    def text(value: Any) -> str | None:
        return str(value) if value is not None else None

    return {
        "id": str(lead.id),
        "title": lead.title,
        "services": list(lead.services),
        "contact_id": text(lead.contact_id),
        "customer_id": text(lead.customer_id),
        "owner_id": text(lead.owner_id),
        "source": lead.source,
        "estimated_value": text(lead.estimated_value),
        "currency": lead.currency,
        "tags": list(lead.tags),
        "status": lead.status,
        "deal_id": text(lead.deal_id),
    }


def _validate(model: type[Command], data: dict[str, Any]) -> Command:
    return validated(model, data, _PYDANTIC_CODES, LeadErrorCode.INVALID)


def _parse(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    """Validate input; on update, validate only the fields given (title stays required)."""
    if partial:
        return _validate(LeadChanges, {"title": "-", **data}).model_dump(include=set(data))
    return _validate(LeadChanges, data).model_dump()


def _check_currency(value: Decimal | None, currency: str | None) -> None:
    if value is not None:
        deals.check_currency(value, currency, LeadErrorCode)


def _scoped(actor: Actor, access: Access = Access.READ) -> Any:
    return scoped(Lead, actor, access)


async def _check_owner(actor: Actor, owner_id: UUID | None) -> None:
    await check_owner(actor, owner_id, LeadErrorCode, "leads")


async def _check_links(actor: Actor, fields: dict[str, Any]) -> None:
    """The contact and customer a lead names, among those given."""
    links = {"contact_id": Contact, "customer_id": Customer}
    await check_links(
        actor,
        {name: (model, fields[name]) for name, model in links.items() if name in fields},
        LeadErrorCode,
    )


def _not_found(lead_id: UUID) -> DomainError:
    return DomainError(LeadErrorCode.NOT_FOUND, f"No lead with id {lead_id}.", "id")


async def leads_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, Lead]:
    """Batch load for DataLoaders, scoped like every other read."""
    found = await _scoped(actor).filter(id__in=list(ids))
    return {lead.id: lead for lead in found}


async def get_lead(actor: Actor, lead_id: UUID) -> Lead:
    lead: Lead | None = await _scoped(actor).get_or_none(id=lead_id)
    if lead is None:
        raise _not_found(lead_id)
    return lead


async def list_leads(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering | CustomFieldOrdering = NEWEST_FIRST,
) -> Page[Lead]:
    query = _scoped(actor)
    if criteria is not None:
        where = _validate(LeadFilter, criteria)
        exact = {"owner_id", "contact_id", "customer_id", "source"}
        query = await filtered(query, actor, AGGREGATE, where, exact)
    return await records_page(actor, AGGREGATE, query, ordering, first, after)


async def create_lead(actor: Actor, data: dict[str, Any]) -> Lead:
    """A new lead, owned by its creator unless another owner is given."""
    data, custom = await custom_values(actor, AGGREGATE, data, creating=True)
    fields = _parse(data, partial=False)
    if "owner_id" not in data:
        fields["owner_id"] = actor.user_id
    _check_currency(fields["estimated_value"], fields["currency"])
    await _check_owner(actor, fields["owner_id"])
    await _check_links(actor, fields)
    async with in_transaction() as conn:
        if fields["owner_id"] is None:
            facts = await lead_facts(actor.agency_id, fields, conn)
            fields["owner_id"] = await owner_by_rules(actor.agency_id, facts, conn)
        lead = Lead(agency_id=actor.agency_id, **fields)
        lead.tags = await tags.tag_record(actor, AGGREGATE, lead.id, lead.tags, conn)
        await lead.save(using_db=conn)
        after = {**snapshot(lead), **await custom.write(actor, lead.id, conn)}
        await record_created(actor, AGGREGATE, str(lead.id), after, conn)
    return lead


async def update_lead(actor: Actor, lead_id: UUID, data: dict[str, Any]) -> Lead:
    data, custom = await custom_values(actor, AGGREGATE, data, creating=False)
    fields = _parse(data, partial=True)
    if "owner_id" in fields:
        await _check_owner(actor, fields["owner_id"])
    if "contact_id" in fields:
        await _check_links(actor, fields)
    async with in_transaction() as conn:
        lead = await _locked(actor, lead_id, conn)
        if "tags" in fields:
            fields["tags"] = await tags.tag_record(actor, AGGREGATE, lead.id, fields["tags"], conn)
        before = {**snapshot(lead), **await custom.current(lead.id, conn)}
        lead.update_from_dict(fields)
        _check_currency(lead.estimated_value, lead.currency)
        await lead.save(using_db=conn)
        after = {**snapshot(lead), **await custom.write(actor, lead.id, conn)}
        old, new = changed_fields(before, after)
        if new:
            await record_updated(actor, AGGREGATE, str(lead.id), old, new, conn)
        if "owner_id" in new:
            label = f"Lead {lead.title}"
            was, now = (UUID(o) if o else None for o in (old["owner_id"], new["owner_id"]))
            await tell_reassigned(actor, AGGREGATE, lead.id, label, was, now, conn)
    return lead


async def delete_lead(actor: Actor, lead_id: UUID) -> Lead:
    """Soft delete: the row stays for audit and undo, but no query returns it."""
    async with in_transaction() as conn:
        lead = await _locked(actor, lead_id, conn)
        await soft_delete(actor, lead, AGGREGATE, snapshot, conn)
    return lead


async def transition_lead(actor: Actor, lead_id: UUID, event: str) -> Lead:
    """Apply a lifecycle event; CONVERT is a conversion with every deal field defaulted."""
    if event == CONVERT:
        lead, _ = await convert_lead(actor, lead_id, {})
        return lead
    async with in_transaction() as conn:
        lead = await _locked(actor, lead_id, conn)
        before = lead.status
        await apply_event(LeadLifecycle, lead, event, LeadErrorCode.INVALID_TRANSITION)
        await lead.save(using_db=conn, update_fields=["status", "updated_at"])
        await _record_transition(actor, lead, event, before, {}, conn)
    return lead


async def convert_lead(
    actor: Actor, lead_id: UUID, data: dict[str, Any]
) -> tuple[Lead, deals.Deal]:
    """Convert a qualified lead into a deal, in one transaction, and return both.

    The deal takes the lead's title, value, currency, owner, contact and tags unless `data` says
    otherwise, starts in the given open stage (default: the first open stage of the given or
    the default pipeline), and is expected to close 30 days from now unless a date is given.
    """
    options = _validate(LeadConversion, data)
    if options.pipeline_id is None and options.stage_id is None:
        await ensure_default_pipeline(actor.agency_id)
    async with in_transaction() as conn:
        lead = await _locked(actor, lead_id, conn)
        before = lead.status
        await apply_event(LeadLifecycle, lead, CONVERT, LeadErrorCode.INVALID_TRANSITION)
        stage = await entry_stage(actor, options.pipeline_id, options.stage_id, conn)
        amount = options.amount if options.amount is not None else lead.estimated_value
        currency = options.currency or lead.currency
        deals.check_currency(amount or Decimal(0), currency, LeadErrorCode)
        close = options.expected_close_date or (datetime.now(UTC) + DEFAULT_CLOSE_AFTER).date()
        fields = {
            "name": options.name or lead.title,
            "amount": amount or Decimal(0),
            "currency": currency,
            "expected_close_date": close,
            "owner_id": lead.owner_id,
            "contact_id": lead.contact_id,
            "customer_id": lead.customer_id,
            "lead_id": lead.id,
            "tags": list(lead.tags),
        }
        deal = await deals.insert_deal(actor, fields, stage, conn)
        lead.deal_id = deal.id
        await lead.save(using_db=conn, update_fields=["status", "deal_id", "updated_at"])
        await _record_transition(actor, lead, CONVERT, before, {"deal_id": str(deal.id)}, conn)
    return lead, deal


async def _record_transition(
    actor: Actor,
    lead: Lead,
    event: str,
    before: str,
    extra: dict[str, Any],
    conn: BaseDBAsyncClient,
) -> None:
    audited = ({"status": before}, {"status": lead.status, **extra})
    change = {"event": event, "from": before, "to": lead.status, **extra}
    await record_transitioned(actor, AGGREGATE, str(lead.id), event, audited, change, conn)


async def _locked(actor: Actor, lead_id: UUID, conn: BaseDBAsyncClient) -> Lead:
    """Read for writing (row-locked); visible but not changeable is FORBIDDEN."""
    return await locked(Lead, actor, lead_id, conn, LeadErrorCode, "lead")
