"""What the unsubscribe page shows and does for the holder of a signed link.

The link names one message (`domain.unsubscribe_links`); the page speaks for that message's
recipient only: its agency's name, the address masked, and the kinds it may turn off. Any
link that is not valid (forged, altered, expired, or naming a message that is gone) gives the
same `InvalidLink`, so the answer reveals nothing about which it was or whether anyone exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.messages import Message
from domain.actors import Actor
from domain.message_kinds import UNSUBSCRIBABLE, TemplateKind
from domain.message_preferences import (
    ConsentSource,
    opt_out_of_kind,
    preference_row,
    save_preferences,
)
from domain.signed_links import InvalidLink, LinkConfig
from domain.unsubscribe_links import message_of

ACTOR_NAME = "unsubscribe"


@dataclass(frozen=True)
class PageView:
    agency_name: str
    address: str  # masked
    kind: TemplateKind  # of the message the link came in
    receives: list[TemplateKind]  # among UNSUBSCRIBABLE


def masked(address: str) -> str:
    """`ada@example.com` -> `a**@example.com`: enough for the person to recognise it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}{'*' * max(len(local) - 1, 2)}@{domain}"


async def _message(links: LinkConfig, token: str) -> Message:
    message = await Message.get_or_none(id=message_of(links, token))
    if message is None or not message.to_record:
        raise InvalidLink
    return message


async def _view(message: Message) -> PageView:
    agency = await Agency.get(id=message.agency_id)
    row = await preference_row(message.agency_id, message.record_type, message.record_id)
    opted_out = set(row.opted_out_kinds) if row else set()
    address = message.recipients[0] if message.recipients else ""
    return PageView(
        agency_name=agency.name,
        address=masked(address) if address else "",
        kind=TemplateKind(message.kind),
        receives=[kind for kind in UNSUBSCRIBABLE if kind not in opted_out],
    )


async def page(links: LinkConfig, token: str) -> PageView:
    """What the page shows; `InvalidLink` for any link that is not good."""
    return await _view(await _message(links, token))


async def choose(
    links: LinkConfig, token: str, receives: Iterable[str] | None, source: ConsentSource
) -> PageView:
    """Keep receiving `receives` (of the unsubscribable kinds) and nothing else of them; None
    turns off the kind of the message the link came in (RFC 8058 one-click)."""
    message = await _message(links, token)
    actor = Actor.system(message.agency_id, ACTOR_NAME)
    async with in_transaction() as conn:
        if receives is None:
            await opt_out_of_kind(
                actor,
                message.record_type,
                message.record_id,
                message.kind,
                source,
                conn,
                message.id,
            )
        else:
            await _keep_only(actor, message, set(receives), source, conn)
    return await _view(message)


async def _keep_only(
    actor: Actor,
    message: Message,
    wanted: set[str],
    source: ConsentSource,
    conn: BaseDBAsyncClient,
) -> None:
    row = await preference_row(message.agency_id, message.record_type, message.record_id, conn)
    opted_out = set(row.opted_out_kinds) if row else set()
    opted_out -= {str(k) for k in UNSUBSCRIBABLE}
    opted_out |= {str(k) for k in UNSUBSCRIBABLE if str(k) not in wanted}
    await save_preferences(
        actor,
        message.record_type,
        message.record_id,
        {"opted_out_kinds": sorted(opted_out)},
        source,
        conn,
        message.id,
    )
