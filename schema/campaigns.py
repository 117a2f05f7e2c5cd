"""Campaign types, inputs, enums and payloads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.campaign_counters import MAX_SERIES_DAYS, DayCount, Totals
from domain.campaign_shares import MAX_RECIPIENTS
from domain.campaigns import (
    MAX_CAMPAIGNS,
    MAX_DESCRIPTION,
    MAX_EMBED_ORIGINS,
    MAX_TEMPLATES,
    CampaignErrorCode,
    CampaignOrderField,
    CampaignType,
    CampaignVisibility,
)
from domain.campaigns import Campaign as CampaignRecord
from domain.lifecycles.campaign import CampaignEvent, CampaignLifecycle, CampaignStatus
from domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from resolvers import campaigns as resolve
from resolvers import related
from resolvers.errors import Outcome
from schema.broadcasts import Broadcast
from schema.contacts import ContactFilter
from schema.customers import CustomerFilter
from schema.enum_values import described_enum, error_code_enum, lifecycle_enums
from schema.payloads import errors_as
from schema.record_filters import OrderDirection
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
    CampaignStatusEnum = StrEnum
    CampaignEventEnum = StrEnum
else:
    CampaignStatusEnum, CampaignEventEnum = lifecycle_enums(
        CampaignLifecycle, CampaignStatus, CampaignEvent, "Campaign"
    )

error_code_enum(CampaignErrorCode, "CampaignErrorCode", "campaigns")
described_enum(
    CampaignOrderField,
    "CampaignOrderField",
    "What campaigns can be sorted by.",
    {
        "CREATED_AT": "When it was created.",
        "UPDATED_AT": "When it last changed.",
        "STARTS_AT": "The start of its period; campaigns without one come last in either "
        "direction.",
        "TITLE": "Its title, alphabetically.",
    },
)
described_enum(
    CampaignType,
    "CampaignType",
    "What a campaign is for.",
    {
        "REFERRAL": "People bring people: users and contacts share their `referralLink`, and "
        "sign-ups through it are attributed to them.",
        "PROMOTION": "An offer promoted to an audience.",
        "GREETINGS": "Greetings sent to an audience (a season, an anniversary).",
    },
)
described_enum(
    CampaignVisibility,
    "CampaignVisibility",
    "Who sees a campaign (on top of the agency); who changes it is the role's business.",
    {
        "PRIVATE": "Its owner and the agency's admins.",
        "INTERNAL": "Everyone in the agency.",
        "PUBLIC": "Everyone in the agency, and anyone on the web through its public page and "
        "widget while it is ACTIVE.",
    },
)


@strawberry.type(description="Views, likes and enrolments (sign-ups) of a campaign.")
class CampaignCounts:
    views: int = strawberry.field(description="Views of its public page and widget.")
    likes: int = strawberry.field(description="Likes on its public page and widget.")
    enrolments: int = strawberry.field(
        description="People brought in by its sign-up form (each counts once per sign-up)."
    )


@strawberry.type(description="A campaign's counts on one UTC day.")
class CampaignDayCount:
    day: date = strawberry.field(description="The UTC day counted.")
    views: int = strawberry.field(description="Views of its public page and widget that day.")
    likes: int = strawberry.field(description="Likes that day.")
    enrolments: int = strawberry.field(description="People its sign-up form brought in that day.")


@strawberry.type(description="An amount in one currency.")
class WonAmount:
    amount: Decimal = strawberry.field(description="The sum won in `currency`.")
    currency: str = strawberry.field(description="ISO 4217; empty for deals without one.")


@strawberry.type(description="What the campaign brought in, against its cost.")
class CampaignReturn:
    contacts: int = strawberry.field(description="Contacts attributed to the campaign.")
    leads: int = strawberry.field(description="Their leads opened since their attribution.")
    won_deals: int = strawberry.field(description="Won deals of those contacts or leads.")
    won_amounts: list[WonAmount] = strawberry.field(description="Won amounts per currency.")
    cost: Decimal | None = strawberry.field(
        description="The campaign's cost; null when none was given."
    )
    currency: str | None = strawberry.field(
        description="ISO 4217 code of the cost; null without a cost."
    )
    won_amount: Decimal | None = strawberry.field(description="Won, in the cost's currency.")
    return_on_cost: Decimal | None = strawberry.field(
        description="(won - cost) / cost in the cost's currency; null without a cost."
    )


@strawberry.type(description="A referral, promotion or greetings campaign of the agency.")
class Campaign(relay.Node):
    id: relay.NodeID[str] = node_id()
    title: str = strawberry.field(description="What the campaign is called (never empty).")
    code: str = strawberry.field(description="Unique in the agency; names it in public links.")
    description: str = strawberry.field(
        description="What it is about, shown on its public page; may be empty."
    )
    starts_at: datetime | None = strawberry.field(
        description="The start of its period: a NEW campaign is activated then. Null until set."
    )
    ends_at: datetime | None = strawberry.field(
        description="The end of its period: an ACTIVE campaign is deactivated then. Null until set."
    )
    visibility: CampaignVisibility = strawberry.field(description="Who sees it.")
    status: CampaignStatusEnum = strawberry.field(
        description="Where the campaign is in its lifecycle; changed by `transitionCampaign` "
        "and by its period."
    )
    cost: Decimal | None = strawberry.field(
        description="What it costs, in `currency`, for its `roi`; null when not given."
    )
    currency: str | None = strawberry.field(description="ISO 4217 code of the cost.")
    audience: JSON = strawberry.field(description="The saved filter it is shared with.")
    audience_type: str = strawberry.field(description="contact or customer.")
    embed_origins: list[str] = strawberry.field(
        description="https origins whose pages may frame its widget."
    )
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, CampaignRecord))

    @strawberry.field(name="type", description="What the campaign is for.")
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
        description=f"Counts per UTC day from `since` to `until` (both included, at most "
        f"{MAX_SERIES_DAYS} days), zeros on days with none, for charts. A longer or backward "
        "range is an OUT_OF_RANGE error."
    )
    async def daily_counts(
        self,
        info: Info,
        root: strawberry.Parent[CampaignRecord],
        since: Annotated[date, strawberry.argument(description="The first UTC day.")],
        until: Annotated[
            date,
            strawberry.argument(
                description=f"The last UTC day: not before `since`, less than "
                f"{MAX_SERIES_DAYS} days after it."
            ),
        ],
    ) -> list[CampaignDayCount]:
        days: list[DayCount] = await resolve.daily_counts(info.context, root, since, until)
        return [
            CampaignDayCount(day=d.day, views=d.views, likes=d.likes, enrolments=d.enrolments)
            for d in days
        ]


@strawberry.input(
    description="Exactly one of them (both: INVALID_AUDIENCE); neither means every contact."
)
class CampaignAudience:
    contacts: ContactFilter | None = strawberry.field(
        default=None, description="Contacts matching this filter."
    )
    customers: CustomerFilter | None = strawberry.field(
        default=None, description="Customers matching this filter."
    )


@strawberry.input(
    description=f"A new campaign in status DRAFT (at most {MAX_CAMPAIGNS} per agency, else "
    "TOO_MANY). Errors: REQUIRED, TOO_LONG, INVALID, INVALID_CODE, CODE_TAKEN, INVALID_PERIOD, "
    "OUT_OF_RANGE, INVALID_CURRENCY, INVALID_ORIGIN, INVALID_AUDIENCE, TEMPLATE_NOT_FOUND, "
    "TOO_MANY, NOT_FOUND (the owner), FORBIDDEN."
)
class CreateCampaignInput:
    title: str = strawberry.field(description="1 to 200 characters.")
    code: str = strawberry.field(
        description="Unique in the agency (else CODE_TAKEN): 1 to 40 letters, digits, - and _, "
        "starting with a letter or digit (else INVALID_CODE); case matters."
    )
    type: CampaignType = strawberry.field(description="What the campaign is for.")
    description: str = strawberry.field(
        default="", description=f"At most {MAX_DESCRIPTION} characters; empty when left out."
    )
    starts_at: datetime | None = strawberry.field(
        default=None,
        description="The start of its period, with a time zone; may be set later, but "
        "ACTIVATE needs the whole period.",
    )
    ends_at: datetime | None = strawberry.field(
        default=None,
        description="The end of its period, after the start (else INVALID_PERIOD).",
    )
    visibility: CampaignVisibility = strawberry.field(
        default=CampaignVisibility.PRIVATE, description="PRIVATE when left out."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id; defaults to the creator."
    )
    templates: list[str] = strawberry.field(
        default_factory=list,
        description=f"Keys of the agency's message templates (at most {MAX_TEMPLATES}, else "
        "TOO_MANY; an unknown key is TEMPLATE_NOT_FOUND); ACTIVATE needs one published.",
    )
    cost: Decimal | None = strawberry.field(
        default=None,
        description="What it costs: at least 0, 12 digits before the point and 2 after at "
        "most (else OUT_OF_RANGE); needs `currency`.",
    )
    currency: str | None = strawberry.field(
        default=None, description="ISO 4217 code of the cost (e.g. EUR); required with a cost."
    )
    audience: CampaignAudience | None = strawberry.field(
        default=strawberry.UNSET,
        description="Who it is shared with by `shareCampaign(toAudience: true)`; left out: "
        "every contact.",
    )
    embed_origins: list[str] = strawberry.field(
        default_factory=list,
        description=f"At most {MAX_EMBED_ORIGINS} origins whose pages may frame its widget: "
        "https://host[:port], no path (http only on localhost), else INVALID_ORIGIN.",
    )


@strawberry.input(
    description="Fields left out are unchanged; limits and errors as for createCampaign. A "
    "DISCARDED campaign accepts no change (DISCARDED); an ACTIVE one keeps its whole period "
    "(INVALID_PERIOD). A moved period moves its timers."
)
class UpdateCampaignInput:
    id: relay.GlobalID = strawberry.field(description="The Campaign to change.")
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters."
    )
    code: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new code, unique in the agency: 1 to 40 letters, digits, - and _. "
        "Links with the old code stop working.",
    )
    type: CampaignType | None = strawberry.field(
        default=strawberry.UNSET, description="What the campaign is for."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description=f"At most {MAX_DESCRIPTION} characters."
    )
    starts_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="The start of its period; null clears it (not while ACTIVE).",
    )
    ends_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="The end of its period, after the start; null clears it (not while "
        "ACTIVE). A new end lets an INACTIVE campaign be activated again.",
    )
    visibility: CampaignVisibility | None = strawberry.field(
        default=strawberry.UNSET, description="Who sees it."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The new owner (a User id, active in the agency); needs the right to "
        "reassign (else FORBIDDEN); null is REQUIRED.",
    )
    templates: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"The whole list of template keys: at most {MAX_TEMPLATES}.",
    )
    cost: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="At least 0, 12 digits before the point and 2 after at most; null clears it.",
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217 code of the cost (e.g. EUR)."
    )
    audience: CampaignAudience | None = strawberry.field(
        default=strawberry.UNSET, description="The whole audience; null: every contact."
    )
    embed_origins: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"The whole list of origins that may frame its widget: at most "
        f"{MAX_EMBED_ORIGINS}.",
    )


@strawberry.input(description="A lifecycle event to apply to a campaign.")
class TransitionCampaignInput:
    id: relay.GlobalID = strawberry.field(description="The Campaign to move.")
    event: CampaignEventEnum = strawberry.field(
        description="ACTIVATE needs a period whose end has not passed and a published template "
        "(else GUARD_FAILED)."
    )


@strawberry.input(description="Which campaigns to list; conditions combine with AND.")
class CampaignFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Part of the title in any letter case, or the exact code (any case); at "
        "most 100 characters.",
    )
    status_in: list[CampaignStatusEnum] | None = strawberry.field(
        default=None, description="Only campaigns in one of these statuses."
    )
    type_in: list[CampaignType] | None = strawberry.field(
        default=None, description="Only campaigns of one of these types."
    )
    visibility_in: list[CampaignVisibility] | None = strawberry.field(
        default=None, description="Only campaigns with one of these visibilities."
    )
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only campaigns owned by this user."
    )


@strawberry.input(description="How to sort campaigns.")
class CampaignOrder:
    field: CampaignOrderField = strawberry.field(
        default=CampaignOrderField.CREATED_AT,
        description="The field to sort by; CREATED_AT when left out.",
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="DESC when left out."
    )


@strawberry.input(
    description="Send one of the campaign's templates to people, or its audience, or both. "
    "Errors: REQUIRED (neither), NOT_FOUND, INVALID_STATE (a DRAFT or DISCARDED campaign is "
    "not shared), TEMPLATE_NOT_FOUND, NOT_PUBLISHED, TRANSACTIONAL, TOO_MANY, INVALID, "
    "FORBIDDEN."
)
class ShareCampaignInput:
    id: relay.GlobalID = strawberry.field(description="The Campaign to share.")
    template: str = strawberry.field(
        description="One of the campaign's templates (else TEMPLATE_NOT_FOUND), published "
        "(else NOT_PUBLISHED) and not transactional (else TRANSACTIONAL)."
    )
    recipients: list[relay.GlobalID] = strawberry.field(
        default_factory=list,
        description=f"Contacts and customers you may see (at most {MAX_RECIPIENTS}, else "
        "TOO_MANY; others are NOT_FOUND or INVALID).",
    )
    to_audience: bool = strawberry.field(
        default=False, description="Also send to the campaign's audience (as a broadcast)."
    )


@strawberry.type(description="A problem with the input; nothing was changed.")
class CampaignError:
    field: str | None = error_field()
    code: CampaignErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class CampaignPayload:
    campaign: Campaign | None = payload_record("campaign")
    errors: list[CampaignError] = payload_errors()


@strawberry.type(
    description="What sharing did: messages queued and the audience's broadcast, or the "
    "errors that stopped it (then nothing was sent)."
)
class ShareCampaignPayload:
    campaign: Campaign | None = strawberry.field(
        description="The campaign shared; null when `errors` is not empty."
    )
    queued: int = strawberry.field(
        description="Messages queued for the chosen people; consent is checked when each is sent."
    )
    without_address: int = strawberry.field(description="Chosen people with no email address.")
    broadcast: Broadcast | None = strawberry.field(
        description="The broadcast to the audience, when asked for."
    )
    errors: list[CampaignError] = payload_errors()


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
    async def campaign(self, info: Info, id: RecordId) -> Campaign | None:
        return await resolve.campaign(info.context, id)  # type: ignore[return-value]

    @strawberry.field(
        description=f"The campaigns you may see, newest first by default; at most {MAX_PAGE_SIZE}."
    )
    async def campaigns(
        self,
        info: Info,
        first: First = DEFAULT_PAGE_SIZE,
        after: After = None,
        filter: Annotated[CampaignFilter | None, FILTER] = None,
        order_by: Annotated[CampaignOrder | None, ORDER] = None,
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
    @strawberry.mutation(
        description="Create a draft campaign (admins, marketing, sales heads and sales people). "
        "Errors: see CreateCampaignInput."
    )
    async def create_campaign(
        self, info: Info, input: Annotated[CreateCampaignInput, MUTATION_INPUT]
    ) -> CampaignPayload:
        return _payload(await resolve.create(info.context, input))

    @strawberry.mutation(
        description="Change a campaign you may change (admins and marketing any they see, sales "
        "heads their team's, sales people their own; else FORBIDDEN); a moved period moves its "
        "timers. Errors: see UpdateCampaignInput."
    )
    async def update_campaign(
        self, info: Info, input: Annotated[UpdateCampaignInput, MUTATION_INPUT]
    ) -> CampaignPayload:
        return _payload(await resolve.update(info.context, input))

    @strawberry.mutation(
        description="Apply a lifecycle event to a campaign you may change; illegal ones return "
        "INVALID_TRANSITION, an activation without a period or a published template "
        "GUARD_FAILED. Errors also: NOT_FOUND, FORBIDDEN."
    )
    async def transition_campaign(
        self, info: Info, input: Annotated[TransitionCampaignInput, MUTATION_INPUT]
    ) -> CampaignPayload:
        event = CampaignEvent(input.event).value
        return _payload(await resolve.transition(info.context, input.id, event))

    @strawberry.mutation(
        description="Share the campaign through one of its templates with chosen contacts and "
        "customers, or its audience (admins and marketing); the messaging path checks consent."
    )
    async def share_campaign(
        self, info: Info, input: Annotated[ShareCampaignInput, MUTATION_INPUT]
    ) -> ShareCampaignPayload:
        outcome = await resolve.share(info.context, input)
        shared = outcome.value
        return ShareCampaignPayload(
            campaign=shared.campaign if shared else None,  # type: ignore[arg-type]
            queued=shared.queued if shared else 0,
            without_address=shared.without_address if shared else 0,
            broadcast=shared.broadcast if shared else None,  # type: ignore[arg-type]
            errors=errors_as(CampaignError, outcome.errors),
        )
