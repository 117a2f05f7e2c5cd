"""Sharing a campaign: an admin or marketing user sends one of its templates to chosen contacts
and customers, or to its audience.

There is no sending path of its own here. Chosen people each get a message queued with its
delivery (`domain.messages.queue_for_delivery`, the path of `sendMessage`); the audience gets
a one-off broadcast sent now (`domain.broadcasts`, which reads the audience when it runs and
sends in paced batches). Either way the message is checked against the person's consent and
suppression when it is sent, carries the unsubscribe link and footer its kind calls for, and
lands on the person's timeline. Who may share is who may broadcast (`Resource.BROADCASTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.broadcasts import Broadcast
from db.messages import Message
from domain import broadcasts, messages
from domain.actors import Actor
from domain.attachments import check_readable
from domain.audit import record_audit
from domain.campaigns import AGGREGATE, Campaign, CampaignErrorCode, get_campaign
from domain.errors import DomainError, DomainErrors, errors_of, input_errors
from domain.events import append_event
from domain.field_types import input_codes
from domain.lifecycles.campaign import CampaignLifecycle
from domain.message_kinds import RECIPIENT_TYPES, TemplateKey
from domain.policies import require
from domain.roles import Access, Resource

# The most people one share names; more are an audience (a saved filter), sent in batches.
MAX_RECIPIENTS = 100


class Recipient(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_type: str
    record_id: UUID


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: TemplateKey
    recipients: Annotated[list[Recipient], Field(max_length=MAX_RECIPIENTS)] = []
    to_audience: bool = False


@dataclass(frozen=True)
class Share:
    campaign: Campaign
    queued: int  # messages queued for the chosen people (those with an address)
    without_address: int  # chosen people with no email address: nothing to send
    broadcast: Broadcast | None  # the audience's broadcast, if asked for


async def _queued(
    actor: Actor, request: messages.MessageRequest, conn: BaseDBAsyncClient
) -> Message:
    try:
        return await messages.queue_for_delivery(actor, request, conn)
    except (DomainError, DomainErrors) as exc:
        raise _codes(exc) from exc


def _codes(exc: DomainError | DomainErrors) -> DomainErrors:
    """Errors of the services shared through, in the campaign's codes (same names)."""
    members = CampaignErrorCode.__members__
    return DomainErrors(
        [
            DomainError(members.get(str(e.code), CampaignErrorCode.INVALID), e.message, e.field)
            for e in errors_of(exc)
        ]
    )


async def _check_template(actor: Actor, campaign: Campaign, key: str) -> None:
    if key not in campaign.template_keys:
        raise DomainError(
            CampaignErrorCode.TEMPLATE_NOT_FOUND,
            f"{key!r} is not one of the campaign's templates.",
            "template",
        )
    try:
        await broadcasts.check_sendable_template(actor, key)
    except DomainError as exc:
        raise _codes(exc) from exc


async def share_campaign(actor: Actor, campaign_id: UUID, data: dict[str, Any]) -> Share:
    """Send the template to the chosen people now and, if asked, to the audience."""
    require(actor, Resource.BROADCASTS, Access.WRITE)
    try:
        request = ShareRequest.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, input_codes(CampaignErrorCode), CampaignErrorCode.INVALID) from exc
    if not request.recipients and not request.to_audience:
        raise DomainError(
            CampaignErrorCode.REQUIRED,
            "Choose people, or the audience, to share with.",
            "recipients",
        )
    campaign = await get_campaign(actor, campaign_id)
    if campaign.status in (CampaignLifecycle.draft.value, CampaignLifecycle.discarded.value):
        raise DomainError(
            CampaignErrorCode.INVALID_STATE,
            f"A {campaign.status} campaign is not shared.",
            "id",
        )
    await _check_template(actor, campaign, request.template)
    chosen = list(dict.fromkeys((r.record_type, r.record_id) for r in request.recipients))
    for index, (record_type, record_id) in enumerate(chosen):
        if record_type not in RECIPIENT_TYPES:
            raise DomainError(
                CampaignErrorCode.INVALID,
                "Share with contacts or customers.",
                f"recipients.{index}",
            )
        await check_readable(
            actor, record_type, record_id, CampaignErrorCode, f"recipients.{index}"
        )
    broadcast = None
    if request.to_audience:
        try:
            broadcast = await broadcasts.create_broadcast(
                actor,
                {
                    "name": f"Campaign {campaign.code}"[:200],
                    "template": request.template,
                    "record_type": campaign.audience_type,
                    "audience": campaign.audience,
                    "send_at": datetime.now(UTC),
                },
            )
        except (DomainError, DomainErrors) as exc:
            raise _codes(exc) from exc
    share_id = uuid4()
    queued = without_address = 0
    async with in_transaction() as conn:
        for record_type, record_id in chosen:
            message = await _queued(
                actor,
                messages.MessageRequest(
                    record_type=record_type,
                    record_id=str(record_id),
                    idempotency_key=f"campaign-share:{share_id}:{record_type}:{record_id}",
                    source=f"campaign:{campaign.id}",
                    template_key=request.template,
                ),
                conn,
            )
            if message.recipients:
                queued += 1
            else:
                without_address += 1
        shared = {
            "share_id": str(share_id),
            "template": request.template,
            "recipients": len(chosen),
            "queued": queued,
            "broadcast_id": str(broadcast.id) if broadcast else None,
        }
        await record_audit(actor, AGGREGATE, str(campaign.id), "share", {}, shared, conn)
        await append_event(actor, f"{AGGREGATE}.shared", AGGREGATE, str(campaign.id), shared, conn)
    return Share(campaign, queued, without_address, broadcast)
