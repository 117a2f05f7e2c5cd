"""Campaign service: create, read, list, update and move campaigns through their lifecycle.

Who sees a campaign is its visibility's business, on top of the agency: a PRIVATE one is seen
by its owner and the agency's admins, an INTERNAL or PUBLIC one by everyone in the agency (and
a PUBLIC and ACTIVE one by anyone, through `get_public_campaign`, which the public page and
widget use). Who changes one is the role's (`Resource.CAMPAIGNS`): admins and marketing any
campaign they see, sales heads their team's, sales people their own.

The period moves a campaign by Temporal timers (`workflows.campaign_period`): every change of
the period, and every submission, writes a `campaign_period` outbox row in the same
transaction, which the relay delivers as a signal-with-start to the campaign's one period
workflow. A moved period therefore moves the timers of the run under way instead of adding a
second run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.campaigns import Campaign as Campaign
from db.campaigns import CampaignAttribution as CampaignAttribution
from db.message_templates import MessageTemplate, MessageTemplateVersion
from domain import campaign_counters
from domain.actors import Actor
from domain.audit import changed_fields
from domain.campaign_counters import DayCount, Totals
from domain.campaign_roi import CampaignReturn, campaign_returns
from domain.contacts import ContactFilter
from domain.customers import CustomerFilter
from domain.errors import DomainError, DomainErrors, input_errors
from domain.field_types import RequiredName, distinct, input_codes
from domain.lifecycles import apply_event
from domain.lifecycles.campaign import CampaignLifecycle
from domain.message_kinds import RECIPIENT_TYPES, TemplateKey
from domain.message_templates import TemplateStatus
from domain.money import Amount, Currency, money_codes
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user
from domain.outbox import OutboxKind, enqueue
from domain.pagination import Ordering, Page, keyset_page, nullable_keyset_page
from domain.policies import require
from domain.record_changes import record_created, record_transitioned, record_updated
from domain.roles import Access, Resource, Role, RowScope
from domain.sales_records import check_owner

AGGREGATE = "campaign"
MAX_CAMPAIGNS = 1_000
MAX_TEMPLATES = 10
MAX_EMBED_ORIGINS = 20
MAX_DESCRIPTION = 5_000
# Letters, digits, - and _: safe in a URL path and a query string without escaping.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
# https origins; plain http only on the loopback (a developer's machine, the browser tests).
_ORIGIN = re.compile(
    r"https://[a-z0-9.-]+\.[a-z0-9-]+(:[0-9]{1,5})?"
    r"|https?://(localhost|127\.0\.0\.1|\[::1\])(:[0-9]{1,5})?"
)


class CampaignType(StrEnum):
    REFERRAL = "referral"
    PROMOTION = "promotion"
    GREETINGS = "greetings"


class CampaignVisibility(StrEnum):
    PRIVATE = "private"  # its owner and the agency's admins
    INTERNAL = "internal"  # everyone in the agency
    PUBLIC = "public"  # the agency, and anyone through its public page once active


class CampaignErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_CURRENCY = "INVALID_CURRENCY"
    INVALID_CODE = "INVALID_CODE"
    CODE_TAKEN = "CODE_TAKEN"
    INVALID_PERIOD = "INVALID_PERIOD"
    INVALID_ORIGIN = "INVALID_ORIGIN"
    INVALID_AUDIENCE = "INVALID_AUDIENCE"
    TEMPLATE_NOT_FOUND = "TEMPLATE_NOT_FOUND"
    NOT_PUBLISHED = "NOT_PUBLISHED"
    TRANSACTIONAL = "TRANSACTIONAL"
    INVALID_STATE = "INVALID_STATE"
    DISCARDED = "DISCARDED"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    GUARD_FAILED = "GUARD_FAILED"


_CODES = {
    **input_codes(CampaignErrorCode),
    **money_codes(CampaignErrorCode),
    "string_pattern_mismatch": CampaignErrorCode.INVALID_CODE,
    "invalid_origin": CampaignErrorCode.INVALID_ORIGIN,
}
FILTERS: dict[str, type[BaseModel]] = {"contact": ContactFilter, "customer": CustomerFilter}


def _origin(value: str) -> str:
    origin = value.strip().lower().rstrip("/")
    if not _ORIGIN.fullmatch(origin):
        raise PydanticCustomError(
            "invalid_origin",
            "Not an https origin (https://www.example.com, no path; http only on localhost).",
        )
    return origin


Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CODE_PATTERN)]
Origin = Annotated[str, StringConstraints(max_length=200), AfterValidator(_origin)]


class CampaignChanges(BaseModel):
    """Fields a caller may set; on update only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    title: RequiredName
    code: Code
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=MAX_DESCRIPTION)
    ] = ""
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    visibility: CampaignVisibility = CampaignVisibility.PRIVATE
    campaign_type: CampaignType
    owner_id: UUID | None = None
    template_keys: Annotated[
        list[TemplateKey], Field(max_length=MAX_TEMPLATES), AfterValidator(distinct)
    ] = []
    cost: Amount | None = None
    currency: Currency | None = None
    audience_type: str = "contact"
    audience: dict[str, Any] = {}
    embed_origins: Annotated[
        list[Origin], Field(max_length=MAX_EMBED_ORIGINS), AfterValidator(distinct)
    ] = []


class CampaignOrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    STARTS_AT = "starts_at"
    TITLE = "title"


class CampaignFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[str] | None = None
    campaign_type: list[CampaignType] | None = None
    visibility: list[CampaignVisibility] | None = None
    owner_id: UUID | None = None
    search: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None


NEWEST_FIRST = Ordering(CampaignOrderField.CREATED_AT, descending=True)


def snapshot(campaign: Campaign) -> dict[str, Any]:
    """The campaign's fields as JSON values, for audit rows and event payloads."""

    def text(value: Any) -> str | None:
        return str(value) if value is not None else None

    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": str(campaign.id),
        "title": campaign.title,
        "code": campaign.code,
        "description": campaign.description,
        "starts_at": moment(campaign.starts_at),
        "ends_at": moment(campaign.ends_at),
        "visibility": campaign.visibility,
        "campaign_type": campaign.campaign_type,
        "owner_id": text(campaign.owner_id),
        "template_keys": list(campaign.template_keys),
        "cost": text(campaign.cost),
        "currency": campaign.currency,
        "audience_type": campaign.audience_type,
        "audience": campaign.audience,
        "embed_origins": list(campaign.embed_origins),
        "status": campaign.status,
    }


def period_workflow_id(campaign: Campaign) -> str:
    return f"campaign-period-{campaign.agency_id}-{campaign.id}"


def _validate(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    """Validate input; on update, validate only the fields given."""
    given = {"title": "-", "code": "x", "campaign_type": "promotion", **data} if partial else data
    try:
        parsed = CampaignChanges.model_validate(given)
    except ValidationError as exc:
        raise input_errors(exc, _CODES, CampaignErrorCode.INVALID) from exc
    return parsed.model_dump(include=set(data)) if partial else parsed.model_dump()


def _checked_audience(audience_type: str, audience: dict[str, Any]) -> dict[str, Any]:
    if audience_type not in RECIPIENT_TYPES:
        raise DomainError(
            CampaignErrorCode.INVALID_AUDIENCE,
            "An audience is of contacts or customers.",
            "audience_type",
        )
    try:
        filter_model = FILTERS[audience_type]
        return filter_model.model_validate(audience).model_dump(mode="json", exclude_none=True)
    except ValidationError as exc:
        errors = input_errors(exc, _CODES, CampaignErrorCode.INVALID_AUDIENCE).errors
        raise DomainErrors(
            [
                DomainError(CampaignErrorCode.INVALID_AUDIENCE, e.message, f"audience.{e.field}")
                for e in errors
            ]
        ) from exc


async def _check_templates(actor: Actor, keys: list[str]) -> None:
    if not keys:
        return
    rows = await MessageTemplate.filter(agency_id=actor.agency_id, key__in=keys).values("key")
    found = {row["key"] for row in rows}
    for key in keys:
        if key not in found:
            raise DomainError(
                CampaignErrorCode.TEMPLATE_NOT_FOUND,
                f"No template with key {key!r}.",
                "template_keys",
            )


def _check_period(campaign: Campaign) -> None:
    if (
        campaign.starts_at is not None
        and campaign.ends_at is not None
        and campaign.ends_at <= campaign.starts_at
    ):
        raise DomainError(
            CampaignErrorCode.INVALID_PERIOD, "The period must end after it starts.", "ends_at"
        )
    if campaign.cost is not None and not campaign.currency:
        raise DomainError(CampaignErrorCode.REQUIRED, "A cost needs its currency.", "currency")


# --- who sees what ---------------------------------------------------------------------------


def readable(actor: Actor) -> Q:
    """The campaigns the actor may see: the agency's, minus other people's private ones
    (admins see those too)."""
    require(actor, Resource.CAMPAIGNS, Access.READ)
    in_agency = Q(agency_id=actor.agency_id)
    if Role.ADMIN in actor.roles:
        return in_agency
    shared = Q(visibility__in=[CampaignVisibility.INTERNAL, CampaignVisibility.PUBLIC])
    if actor.user_id is not None:
        shared = shared | Q(owner_id=actor.user_id)
    return in_agency & shared


def _writable(actor: Actor) -> Q:
    granted = require(actor, Resource.CAMPAIGNS, Access.WRITE)
    if granted is RowScope.AGENCY:
        return readable(actor)
    owners = list(actor.team) if granted is RowScope.TEAM else [actor.user_id]
    return readable(actor) & Q(owner_id__in=owners)


def _scoped(actor: Actor) -> QuerySet[Campaign]:
    return Campaign.filter(readable(actor))


def _not_found(campaign_id: UUID) -> DomainError:
    return DomainError(CampaignErrorCode.NOT_FOUND, f"No campaign with id {campaign_id}.", "id")


async def campaigns_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, Campaign]:
    """Batch load for DataLoaders, scoped like every other read."""
    found = await _scoped(actor).filter(id__in=list(ids))
    return {campaign.id: campaign for campaign in found}


async def get_campaign(actor: Actor, campaign_id: UUID) -> Campaign:
    campaign: Campaign | None = await _scoped(actor).get_or_none(id=campaign_id)
    if campaign is None:
        raise _not_found(campaign_id)
    return campaign


async def list_campaigns(
    actor: Actor,
    first: int,
    after: str | None = None,
    criteria: dict[str, Any] | None = None,
    ordering: Ordering = NEWEST_FIRST,
) -> Page[Campaign]:
    query = _scoped(actor)
    if criteria:
        try:
            where = CampaignFilter.model_validate(criteria)
        except ValidationError as exc:
            raise input_errors(exc, _CODES, CampaignErrorCode.INVALID) from exc
        if where.status:
            query = query.filter(status__in=where.status)
        if where.campaign_type:
            query = query.filter(campaign_type__in=where.campaign_type)
        if where.visibility:
            query = query.filter(visibility__in=where.visibility)
        if where.owner_id:
            query = query.filter(owner_id=where.owner_id)
        if where.search:
            query = query.filter(Q(title__icontains=where.search) | Q(code__iexact=where.search))
    if ordering.field == CampaignOrderField.STARTS_AT:
        # Campaigns without a period yet sort last, in either direction, and are not lost
        # between pages (a cursor's NULL compares to nothing).
        return await nullable_keyset_page(query, ordering, first, after)
    return await keyset_page(query, ordering, first, after)


async def get_public_campaign(agency_slug: str, code: str) -> Campaign | None:
    """The campaign behind a public link: only a PUBLIC and ACTIVE one, else None (the public
    side answers 404 for anything else, so nothing about other campaigns leaks)."""
    if not re.fullmatch(CODE_PATTERN, code) or len(agency_slug) > 60:
        return None
    agency = await Agency.get_or_none(slug=agency_slug)
    if agency is None:
        return None
    found: Campaign | None = await Campaign.get_or_none(
        agency_id=agency.id,
        code=code,
        visibility=CampaignVisibility.PUBLIC,
        status=CampaignLifecycle.active.value,
    )
    return found


# --- changes ---------------------------------------------------------------------------------


async def _code_taken(actor: Actor, code: str, conn: BaseDBAsyncClient, but: UUID | None) -> bool:
    query = Campaign.filter(agency_id=actor.agency_id, code=code).using_db(conn)
    if but is not None:
        query = query.exclude(id=but)
    return await query.exists()


def _code_error(code: str) -> DomainError:
    return DomainError(
        CampaignErrorCode.CODE_TAKEN, f"Another campaign has the code {code!r}.", "code"
    )


async def _schedule_period(campaign: Campaign, conn: BaseDBAsyncClient) -> None:
    """Tell the campaign's period workflow the period (starting it if none runs)."""
    if campaign.starts_at is None or campaign.ends_at is None:
        return
    await enqueue(
        campaign.agency_id,
        OutboxKind.CAMPAIGN_PERIOD,
        period_workflow_id(campaign),
        {
            "campaign_id": str(campaign.id),
            "agency_id": str(campaign.agency_id),
            "starts_at": campaign.starts_at.isoformat(),
            "ends_at": campaign.ends_at.isoformat(),
        },
        conn,
    )


async def create_campaign(actor: Actor, data: dict[str, Any]) -> Campaign:
    """A new draft campaign, owned by its creator unless another owner is given."""
    require(actor, Resource.CAMPAIGNS, Access.WRITE)
    fields = _validate(data, partial=False)
    if fields["owner_id"] is None:
        fields["owner_id"] = actor.user_id
    if fields["owner_id"] is None:
        raise DomainError(CampaignErrorCode.REQUIRED, "Say who owns the campaign.", "owner_id")
    await check_owner(actor, fields["owner_id"], CampaignErrorCode, "campaigns")
    fields["audience"] = _checked_audience(fields["audience_type"], fields["audience"])
    await _check_templates(actor, fields["template_keys"])
    campaign = Campaign(agency_id=actor.agency_id, created_by=actor.id, **fields)
    _check_period(campaign)
    async with in_transaction() as conn:
        if await Campaign.filter(agency_id=actor.agency_id).using_db(conn).count() >= MAX_CAMPAIGNS:
            raise DomainError(
                CampaignErrorCode.TOO_MANY, f"At most {MAX_CAMPAIGNS} campaigns.", "title"
            )
        if await _code_taken(actor, campaign.code, conn, None):
            raise _code_error(campaign.code)
        await campaign.save(using_db=conn)
        await record_created(actor, AGGREGATE, str(campaign.id), snapshot(campaign), conn)
    return campaign


async def update_campaign(actor: Actor, campaign_id: UUID, data: dict[str, Any]) -> Campaign:
    fields = _validate(data, partial=True)
    if "owner_id" in fields:
        if fields["owner_id"] is None:
            raise DomainError(CampaignErrorCode.REQUIRED, "Say who owns the campaign.", "owner_id")
        await check_owner(actor, fields["owner_id"], CampaignErrorCode, "campaigns")
    if "template_keys" in fields:
        await _check_templates(actor, fields["template_keys"])
    async with in_transaction() as conn:
        campaign = await _locked(actor, campaign_id, conn)
        if campaign.status == CampaignLifecycle.discarded.value:
            raise DomainError(
                CampaignErrorCode.DISCARDED, "A discarded campaign accepts no changes.", "id"
            )
        before = snapshot(campaign)
        campaign.update_from_dict(fields)
        if "audience" in fields or "audience_type" in fields:
            campaign.audience = _checked_audience(campaign.audience_type, campaign.audience)
        _check_period(campaign)
        if campaign.status == CampaignLifecycle.active.value and (
            campaign.starts_at is None or campaign.ends_at is None
        ):
            raise DomainError(
                CampaignErrorCode.INVALID_PERIOD,
                "An active campaign keeps its period; move its end instead.",
                "ends_at" if campaign.ends_at is None else "starts_at",
            )
        if "code" in fields and await _code_taken(actor, campaign.code, conn, campaign.id):
            raise _code_error(campaign.code)
        await campaign.save(using_db=conn)
        old, new = changed_fields(before, snapshot(campaign))
        if new:
            await record_updated(actor, AGGREGATE, str(campaign.id), old, new, conn)
        if ("starts_at" in new or "ends_at" in new) and campaign.status != "draft":
            await _schedule_period(campaign, conn)
    return campaign


async def _facts(campaign: Campaign, conn: BaseDBAsyncClient, now: datetime) -> dict[str, bool]:
    published = (
        bool(campaign.template_keys)
        and await MessageTemplateVersion.filter(
            template__agency_id=campaign.agency_id,
            template__key__in=list(campaign.template_keys),
            status=TemplateStatus.PUBLISHED,
        )
        .using_db(conn)
        .exists()
    )
    return {
        "has_period": campaign.starts_at is not None and campaign.ends_at is not None,
        "period_open": campaign.ends_at is None or campaign.ends_at > now,
        "has_published_template": published,
    }


async def transition_campaign(
    actor: Actor, campaign_id: UUID, event: str, now: datetime | None = None
) -> Campaign:
    """Apply a lifecycle event (guards: see `CampaignLifecycle`)."""
    async with in_transaction() as conn:
        campaign = await _locked(actor, campaign_id, conn)
        await _transition(actor, campaign, event, now or datetime.now(UTC), conn)
    return campaign


async def _transition(
    actor: Actor, campaign: Campaign, event: str, now: datetime, conn: BaseDBAsyncClient
) -> None:
    before = campaign.status
    facts = await _facts(campaign, conn, now) if event == "activate" else {}
    await apply_event(
        CampaignLifecycle, campaign, event, CampaignErrorCode.INVALID_TRANSITION, facts=facts
    )
    await campaign.save(using_db=conn, update_fields=["status", "updated_at"])
    audited = ({"status": before}, {"status": campaign.status})
    change = {"event": event, "from": before, "to": campaign.status}
    await record_transitioned(actor, AGGREGATE, str(campaign.id), event, audited, change, conn)
    if campaign.status == CampaignLifecycle.new.value:
        await _schedule_period(campaign, conn)
    if campaign.status in (CampaignLifecycle.active.value, CampaignLifecycle.inactive.value):
        became = "active" if campaign.status == CampaignLifecycle.active.value else "in-active"
        await _tell_owner(actor, campaign, f"Campaign {campaign.title!r} is {became}.", conn)


async def _tell_owner(
    actor: Actor, campaign: Campaign, message: str, conn: BaseDBAsyncClient
) -> None:
    await notify_user(
        actor,
        campaign.owner_id,
        message,
        AGGREGATE,
        str(campaign.id),
        "campaign",
        conn,
        NotificationKind.CAMPAIGN_STATUS,
    )


def _same_moment(stored: datetime | None, expected: datetime) -> bool:
    return stored is not None and abs((stored - expected).total_seconds()) < 0.001


async def period_reached(campaign_id: UUID, edge: str, expected: datetime, now: datetime) -> str:
    """The period workflow's timer fired: activate at the start, deactivate at the end.

    Does nothing (and says why) if the campaign is gone, its period moved away from
    `expected` (the workflow is told the new one), or its status is not the one the edge
    moves (activated or deactivated by hand already, discarded). An activation its guards
    refuse leaves the campaign New and tells the owner why.
    """
    start = edge == "start"
    event, source = ("activate", "new") if start else ("deactivate", "active")
    async with in_transaction() as conn:
        campaign = await Campaign.filter(id=campaign_id).using_db(conn).select_for_update().first()
        if campaign is None:
            return "gone"
        if not _same_moment(campaign.starts_at if start else campaign.ends_at, expected):
            return "moved"
        if campaign.status != source:
            return f"left {campaign.status}"
        actor = Actor.system(campaign.agency_id, "campaign_period")
        try:
            await _transition(actor, campaign, event, now, conn)
        except DomainError as refused:
            message = f"Campaign {campaign.title!r} did not start: {refused.message}"
            await _tell_owner(actor, campaign, message, conn)
            return "refused"
    return campaign.status


async def _locked(actor: Actor, campaign_id: UUID, conn: BaseDBAsyncClient) -> Campaign:
    """Read for writing (row-locked); visible but not changeable is FORBIDDEN."""
    found: Campaign | None = (
        await Campaign.filter(_writable(actor), id=campaign_id)
        .using_db(conn)
        .select_for_update()
        .first()
    )
    if found is not None:
        return found
    if await _scoped(actor).using_db(conn).filter(id=campaign_id).exists():
        raise DomainError(CampaignErrorCode.FORBIDDEN, "You may not change this campaign.", "id")
    raise _not_found(campaign_id)


# --- counters --------------------------------------------------------------------------------


async def totals_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, Totals]:
    """Batch load of the campaigns' totals (views, likes, enrolments), for DataLoaders."""
    visible = await _scoped(actor).filter(id__in=list(ids)).values_list("id", flat=True)
    return await campaign_counters.totals([UUID(str(i)) for i in visible])


async def returns_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, CampaignReturn]:
    """Batch load of the campaigns' ROI (`domain.campaign_roi`), for DataLoaders."""
    return await campaign_returns(await _scoped(actor).filter(id__in=list(ids)))


async def daily_counts(actor: Actor, campaign_id: UUID, since: date, until: date) -> list[DayCount]:
    """The campaign's per-day series (UTC days, both ends included, at most 366 days)."""
    if until < since or (until - since).days >= campaign_counters.MAX_SERIES_DAYS:
        raise DomainError(
            CampaignErrorCode.OUT_OF_RANGE,
            f"A series runs forward over at most {campaign_counters.MAX_SERIES_DAYS} days.",
            "until",
        )
    await get_campaign(actor, campaign_id)
    return await campaign_counters.series(campaign_id, since, until)
