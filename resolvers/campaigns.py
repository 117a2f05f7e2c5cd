"""Campaign resolvers: thin calls into domain.campaigns."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from strawberry import relay

from domain import campaign_roi, campaign_shares, campaigns
from domain.campaign_counters import DayCount, Totals
from domain.campaigns import Campaign, CampaignErrorCode, CampaignOrderField
from domain.errors import DomainError
from domain.lifecycles import allowed_events
from domain.lifecycles.campaign import CampaignLifecycle
from domain.pagination import Ordering
from resolvers import contacts, customers
from resolvers.context import RequestContext, actor_of, loaders_of
from resolvers.errors import Outcome, answer, attempt, found_or_none, input_path
from resolvers.inputs import given, node_uuid, recipient_record, with_user_ids
from resolvers.pagination import connection

TYPE_NAME = "Campaign"


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, CampaignErrorCode)


def _audience(audience: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The record type and its filter: one of `contacts` or `customers` (as broadcasts;
    neither: every contact)."""
    chosen = {k: v for k, v in (audience or {}).items() if v is not None}
    if len(chosen) > 1:
        raise DomainError(
            CampaignErrorCode.INVALID_AUDIENCE, "Choose contacts or customers.", "audience"
        )
    if "customers" in chosen:
        return "customer", customers.filter_criteria(chosen["customers"]) or {}
    return "contact", contacts.filter_criteria(chosen.get("contacts")) or {}


# The domain's names of fields the API names otherwise.
_API_NAMES = {
    "campaign_type": "type",
    "template_keys": "templates",
    "audience_type": "audience",
}


def _path(field: str | None) -> str | None:
    """An error's field as the client named it."""
    if field is None:
        return None
    head, dot, rest = field.partition(".")
    return input_path(_API_NAMES.get(head, head) + dot + rest)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The API's names as the domain's: `type`, `templates`, owner and audience."""
    fields = with_user_ids(data, CampaignErrorCode, "owner_id")
    renames = {"type": "campaign_type", "templates": "template_keys"}
    fields = {renames.get(name, name): value for name, value in fields.items()}
    if "audience" in fields:
        audience = fields.pop("audience")
        fields["audience_type"], fields["audience"] = _audience(audience)
    return fields


async def campaign(context: RequestContext, global_id: relay.GlobalID) -> Campaign | None:
    actor = actor_of(context)
    return await found_or_none(lambda: campaigns.get_campaign(actor, _id(global_id)))


async def campaigns_page(
    context: RequestContext,
    first: int,
    after: str | None,
    where: dict[str, Any] | None,
    order_field: str,
    descending: bool,
) -> relay.Connection[Any]:
    actor = actor_of(context)

    async def load() -> Any:
        criteria = None if where is None else with_user_ids(where, CampaignErrorCode, "owner_id")
        ordering = Ordering(CampaignOrderField(order_field), descending)
        return await campaigns.list_campaigns(actor, first, after, criteria, ordering)

    return connection(await answer(load()))


async def create(context: RequestContext, data: Any) -> Outcome[Campaign]:
    actor = actor_of(context)
    return await attempt(
        CampaignErrorCode, lambda: campaigns.create_campaign(actor, _fields(given(data))), _path
    )


async def update(context: RequestContext, data: Any) -> Outcome[Campaign]:
    actor = actor_of(context)

    async def updated() -> Campaign:
        fields = given(data)
        global_id = fields.pop("id")
        return await campaigns.update_campaign(actor, _id(global_id), _fields(fields))

    return await attempt(CampaignErrorCode, updated, _path)


async def transition(
    context: RequestContext, global_id: relay.GlobalID, event: str
) -> Outcome[Campaign]:
    actor = actor_of(context)
    return await attempt(
        CampaignErrorCode, lambda: campaigns.transition_campaign(actor, _id(global_id), event)
    )


async def share(context: RequestContext, data: Any) -> Outcome[campaign_shares.Share]:
    actor = actor_of(context)

    async def shared() -> campaign_shares.Share:
        recipients = []
        for index, global_id in enumerate(data.recipients or []):
            record_type, record_id = recipient_record(
                global_id, CampaignErrorCode, f"recipients.{index}"
            )
            recipients.append({"record_type": record_type, "record_id": record_id})
        request = {
            "template": data.template,
            "recipients": recipients,
            "to_audience": data.to_audience,
        }
        return await campaign_shares.share_campaign(actor, _id(data.id), request)

    return await attempt(CampaignErrorCode, shared, _path)


async def totals(context: RequestContext, record: Campaign) -> Totals:
    found: Totals = await loaders_of(context).campaign_totals.load(record.id)
    return found


async def campaign_return(
    context: RequestContext, record: Campaign
) -> campaign_roi.CampaignReturn | None:
    found: campaign_roi.CampaignReturn | None = await loaders_of(context).campaign_returns.load(
        record.id
    )
    return found


async def daily_counts(
    context: RequestContext, record: Campaign, since: date, until: date
) -> list[DayCount]:
    return await answer(campaigns.daily_counts(actor_of(context), record.id, since, until))


def campaign_allowed_events(record: Campaign) -> list[str]:
    return allowed_events(CampaignLifecycle, record.status)
