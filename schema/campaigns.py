"""Campaign types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.campaign_counters import DayCount, Totals
from domain.campaigns import Campaign as CampaignRecord
from domain.campaigns import (
    CampaignErrorCode,
    CampaignOrderField,
    CampaignType,
    CampaignVisibility,
)
from domain.lifecycles.campaign import CampaignEvent, CampaignStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import campaigns as resolve
from resolvers import related
from resolvers.errors import Outcome
from schema.broadcasts import Broadcast
from schema.contacts import ContactFilter
from schema.customers import CustomerFilter
from schema.payloads import errors_as
from schema.record_filters import OrderDirection
from schema.users import UserSummary

if TYPE_CHECKING:
    CampaignStatusEnum = StrEnum
    CampaignEventEnum = StrEnum
else:
    CampaignStatusEnum = strawberry.enum(
        CampaignStatus, name="CampaignStatus", description="Where a campaign is in its lifecycle."
    )
    CampaignEventEnum = strawberry.enum(
        CampaignEvent, name="CampaignEvent", description="Events of the campaign lifecycle."
    )

strawberry.enum(CampaignErrorCode, name="CampaignErrorCode")
strawberry.enum(CampaignOrderField, name="CampaignOrderField")
strawberry.enum(CampaignType, name="CampaignType")
strawberry.enum(
    CampaignVisibility,
    name="CampaignVisibility",
    description="PRIVATE: its owner and admins; INTERNAL: the agency; PUBLIC: the agency, and "
    "anyone through its public page and widget while it is active.",
)


@strawberry.type(description="Views, likes and enrolments (sign-ups) of a campaign.")
class CampaignCounts:
    views: int
    likes: int
    enrolments: int


@strawberry.type(description="A campaign's counts on one UTC day.")
class CampaignDayCount:
    day: date
    views: int
    likes: int
    enrolments: int


@strawberry.type(description="An amount in one currency.")
class WonAmount:
    amount: Decimal
    currency: str = strawberry.field(description="ISO 4217; empty for deals without one.")


@strawberry.type(description="What the campaign brought in, against its cost.")
class CampaignReturn:
    contacts: int = strawberry.field(description="Contacts attributed to the campaign.")
    leads: int = strawberry.field(description="Their leads opened since their attribution.")
    won_deals: int = strawberry.field(description="Won deals of those contacts or leads.")
    won_amounts: list[WonAmount] = strawberry.field(description="Won amounts per currency.")
    cost: Decimal | None
    currency: str | None
    won_amount: Decimal | None = strawberry.field(description="Won, in the cost's currency.")
    return_on_cost: Decimal | None = strawberry.field(
        description="(won - cost) / cost in the cost's currency; null without a cost."
    )


@strawberry.type(description="A referral, promotion or greetings campaign of the agency.")
class Campaign(relay.Node):
    id: relay.NodeID[str]
    title: str
    code: str = strawberry.field(description="Unique in the agency; names it in public links.")
    description: str
    starts_at: datetime | None
    ends_at: datetime | None
    visibility: CampaignVisibility
    status: CampaignStatusEnum
    cost: Decimal | None
    currency: str | None = strawberry.field(description="ISO 4217 code of the cost.")
    audience: JSON = strawberry.field(description="The saved filter it is shared with.")
    audience_type: str = strawberry.field(description="contact or customer.")
    embed_origins: list[str] = strawberry.field(
        description="https origins whose pages may frame its widget."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, CampaignRecord))

    @strawberry.field(name="type")
    def campaign_type(self, root: strawberry.Parent[CampaignRecord]) -> CampaignType:
        return CampaignType(root.campaign_type)

    @strawberry.field(description="Keys of the message templates it uses.")
    def templates(self, root: strawberry.Parent[CampaignRecord]) -> list[str]:
        return list(root.template_keys)

    @strawberry.field(description="The owner's global id (the `User` type).")
    def owner_id(self, root: strawberry.Parent[CampaignRecord]) -> relay.GlobalID:
        return relay.GlobalID("User", str(root.owner_id))

    @strawberry.field(description="The owner (a colleague's name).")
    async def owner(
        self, info: Info, root: strawberry.Parent[CampaignRecord]
    ) -> UserSummary | None:
        return await related.colleague(info.context, root.owner_id)  # type: ignore[return-value]

    @strawberry.field(description="Events that may be applied to this campaign now.")
    def allowed_events(self, root: strawberry.Parent[CampaignRecord]) -> list[CampaignEventEnum]:
        return [CampaignEvent(e) for e in resolve.campaign_allowed_events(root)]

    @strawberry.field(description="Totals over its whole life, exact.")
    async def counts(self, info: Info, root: strawberry.Parent[CampaignRecord]) -> CampaignCounts:
        found: Totals = await resolve.totals(info.context, root)
        return CampaignCounts(views=found.views, likes=found.likes, enrolments=found.enrolments)

    @strawberry.field(description="Contacts, leads and won deals it brought in, against its cost.")
    async def roi(
        self, info: Info, root: strawberry.Parent[CampaignRecord]
    ) -> CampaignReturn | None:
        found = await resolve.campaign_return(info.context, root)
        if found is None:
            return None
        return CampaignReturn(
            contacts=found.contacts,
            leads=found.leads,
            won_deals=found.won_deals,
            won_amounts=[WonAmount(amount=a, currency=c) for c, a in found.won_amounts.items()],
            cost=found.cost,
            currency=found.currency,
            won_amount=found.won_amount,
            return_on_cost=found.return_on_cost,
        )

    @strawberry.field(
        description="Counts per UTC day from `since` to `until` (both included, at most 366 "
        "days), zeros on days with none."
    )
    async def daily_counts(
        self, info: Info, root: strawberry.Parent[CampaignRecord], since: date, until: date
    ) -> list[CampaignDayCount]:
        days: list[DayCount] = await resolve.daily_counts(info.context, root, since, until)
        return [
            CampaignDayCount(day=d.day, views=d.views, likes=d.likes, enrolments=d.enrolments)
            for d in days
        ]


@strawberry.input(description="Exactly one of them; neither means every contact.")
class CampaignAudience:
    contacts: ContactFilter | None = None
    customers: CustomerFilter | None = None


@strawberry.input
class CreateCampaignInput:
    title: str
    code: str = strawberry.field(
        description="Unique in the agency: 1 to 40 letters, digits, - and _."
    )
    type: CampaignType
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    visibility: CampaignVisibility = CampaignVisibility.PRIVATE
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to the creator."
    )
    templates: list[str] = strawberry.field(
        default_factory=list, description="Keys of message templates (at most 10)."
    )
    cost: Decimal | None = None
    currency: str | None = None
    audience: CampaignAudience | None = strawberry.UNSET
    embed_origins: list[str] = strawberry.field(
        default_factory=list, description="https origins (no path) that may frame the widget."
    )


@strawberry.input(description="Fields left out are unchanged.")
class UpdateCampaignInput:
    id: relay.GlobalID
    title: str | None = strawberry.UNSET
    code: str | None = strawberry.UNSET
    type: CampaignType | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    starts_at: datetime | None = strawberry.UNSET
    ends_at: datetime | None = strawberry.UNSET
    visibility: CampaignVisibility | None = strawberry.UNSET
    owner_id: relay.GlobalID | None = strawberry.UNSET
    templates: list[str] | None = strawberry.UNSET
    cost: Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    audience: CampaignAudience | None = strawberry.UNSET
    embed_origins: list[str] | None = strawberry.UNSET


@strawberry.input
class TransitionCampaignInput:
    id: relay.GlobalID
    event: CampaignEventEnum


@strawberry.input
class CampaignFilter:
    search: str | None = strawberry.field(
        default=None, description="Part of the title, or the exact code."
    )
    status_in: list[CampaignStatusEnum] | None = None
    type_in: list[CampaignType] | None = None
    visibility_in: list[CampaignVisibility] | None = None
    owner_id: relay.GlobalID | None = None


@strawberry.input
class CampaignOrder:
    field: CampaignOrderField = CampaignOrderField.CREATED_AT
    direction: OrderDirection = OrderDirection.DESC


@strawberry.input(description="Send one of the campaign's templates to people, or its audience.")
class ShareCampaignInput:
    id: relay.GlobalID
    template: str = strawberry.field(description="One of the campaign's templates, published.")
    recipients: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="Contacts and customers (at most 100)."
    )
    to_audience: bool = strawberry.field(
        default=False, description="Also send to the campaign's audience (as a broadcast)."
    )


@strawberry.type(description="A problem with the input; nothing was changed.")
class CampaignError:
    field: str | None
    code: CampaignErrorCode
    message: str


@strawberry.type
class CampaignPayload:
    campaign: Campaign | None
    errors: list[CampaignError]


@strawberry.type
class ShareCampaignPayload:
    campaign: Campaign | None
    queued: int = strawberry.field(
        description="Messages queued for the chosen people; consent is checked when each is sent."
    )
    without_address: int = strawberry.field(description="Chosen people with no email address.")
    broadcast: Broadcast | None = strawberry.field(
        description="The broadcast to the audience, when asked for."
    )
    errors: list[CampaignError]


def _payload(outcome: Outcome[CampaignRecord]) -> CampaignPayload:
    return CampaignPayload(
        campaign=outcome.value,  # type: ignore[arg-type]
        errors=errors_as(CampaignError, outcome.errors),
    )


def _criteria(where: CampaignFilter | None) -> dict[str, Any] | None:
    if where is None:
        return None
    criteria: dict[str, Any] = {
        "search": where.search,
        "status": [str(s) for s in where.status_in] if where.status_in else None,
        "campaign_type": where.type_in,
        "visibility": where.visibility_in,
        "owner_id": where.owner_id,
    }
    return {key: value for key, value in criteria.items() if value is not None}


@strawberry.type
class CampaignQuery:
    @strawberry.field(description="One campaign by its global id, or null if not visible.")
    async def campaign(self, info: Info, id: relay.GlobalID) -> Campaign | None:
        return await resolve.campaign(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description=f"The campaigns you may see, newest first by default; at most {MAX_PAGE_SIZE}."
    )
    async def campaigns(
        self,
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        filter: CampaignFilter | None = None,
        order_by: CampaignOrder | None = None,
    ) -> relay.Connection[Campaign]:
        order = order_by or CampaignOrder()
        return await resolve.campaigns_page(
            info.context,
            first,
            after,
            _criteria(filter),
            order.field.value,
            order.direction is OrderDirection.DESC,
        )


@strawberry.type
class CampaignMutation:
    @strawberry.mutation(description="A new draft campaign (admins, marketing, sales).")
    async def create_campaign(self, info: Info, input: CreateCampaignInput) -> CampaignPayload:
        return _payload(await resolve.create(info.context, input))

    @strawberry.mutation(description="Change a campaign; a moved period moves its timers.")
    async def update_campaign(self, info: Info, input: UpdateCampaignInput) -> CampaignPayload:
        return _payload(await resolve.update(info.context, input))

    @strawberry.mutation(
        description="Apply a lifecycle event; illegal ones return INVALID_TRANSITION."
    )
    async def transition_campaign(
        self, info: Info, input: TransitionCampaignInput
    ) -> CampaignPayload:
        event = CampaignEvent(input.event).value
        return _payload(await resolve.transition(info.context, input.id, event))

    @strawberry.mutation(
        description="Share the campaign through one of its templates with chosen contacts and "
        "customers, or its audience (admins and marketing); the messaging path checks consent."
    )
    async def share_campaign(self, info: Info, input: ShareCampaignInput) -> ShareCampaignPayload:
        outcome = await resolve.share(info.context, input)
        shared = outcome.value
        return ShareCampaignPayload(
            campaign=shared.campaign if shared else None,  # type: ignore[arg-type]
            queued=shared.queued if shared else 0,
            without_address=shared.without_address if shared else 0,
            broadcast=shared.broadcast if shared else None,  # type: ignore[arg-type]
            errors=errors_as(CampaignError, outcome.errors),
        )
