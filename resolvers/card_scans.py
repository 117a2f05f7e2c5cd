"""Card scan resolvers: thin calls into domain.card_scans (the upload is plain HTTP, in
`crm.card_scans_http`)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from strawberry import relay

from domain import card_scans, documents
from domain.card_scans import CardScan, CardScanErrorCode, CardScanStatus
from domain.contacts import Contact
from domain.errors import DomainError
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid
from resolvers.pagination import connection

TYPE_NAME = "CardScan"


def _id(global_id: relay.GlobalID) -> UUID:
    return node_uuid(global_id, TYPE_NAME, CardScanErrorCode)


async def card_scan(context: RequestContext, global_id: relay.GlobalID) -> CardScan | None:
    """The scan, or null when it does not exist or is outside the caller's scope."""
    actor = actor_of(context)
    return await found_or_none(lambda: card_scans.get_card_scan(actor, _id(global_id)))


async def card_scans_page(
    context: RequestContext, first: int, after: str | None, status: str | None
) -> relay.Connection[Any]:
    actor = actor_of(context)
    wanted = CardScanStatus(status) if status else None
    return connection(await answer(card_scans.list_card_scans(actor, first, after, wanted)))


async def photo(context: RequestContext, scan: CardScan) -> documents.Document | None:
    """The card's photo (null once deleted)."""
    if scan.document_id is None:
        return None
    actor = actor_of(context)
    try:
        return await documents.get_document(actor, scan.document_id)
    except DomainError:
        return None


async def confirm_card_scan(
    context: RequestContext, data: Any
) -> Outcome[tuple[CardScan, Contact]]:
    actor = actor_of(context)
    corrections = given(data)
    global_id = corrections.pop("id")
    return await attempt(
        CardScanErrorCode,
        lambda: card_scans.confirm_card_scan(actor, _id(global_id), corrections),
    )


async def discard_card_scan(
    context: RequestContext, global_id: relay.GlobalID
) -> Outcome[CardScan]:
    actor = actor_of(context)
    return await attempt(
        CardScanErrorCode, lambda: card_scans.discard_card_scan(actor, _id(global_id))
    )
