"""`node(id)`: refetch a record by its global id, as Relay clients do.

Each type's own fetch answers, so scope and agency checks are the ones its root field applies:
an id the caller may not see, of another agency, or of a type not listed here is null.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from strawberry import relay

from resolvers import (
    broadcasts,
    calling_tasks,
    campaigns,
    card_scans,
    contacts,
    customers,
    deals,
    email_accounts,
    imports,
    inbound_emails,
    knowledge_base,
    leads,
    meetings,
    messages,
    pipelines,
    tickets,
    users,
)
from resolvers.context import RequestContext

Fetch = Callable[[RequestContext, relay.GlobalID], Awaitable[Any]]

FETCHERS: dict[str, Fetch] = {
    "Contact": contacts.contact,
    "CardScan": card_scans.card_scan,
    "Customer": customers.customer,
    "CallingTask": calling_tasks.calling_task,
    "Lead": leads.lead,
    "Deal": deals.deal,
    "Meeting": meetings.meeting,
    "Ticket": tickets.ticket,
    "Article": knowledge_base.article,
    "Pipeline": pipelines.pipeline,
    "User": users.user,
    "Message": messages.message,
    "Broadcast": broadcasts.broadcast,
    "Campaign": campaigns.campaign,
    "ReceivedEmail": inbound_emails.received_email,
    "EmailAccount": email_accounts.email_account,
    "RecordImport": imports.record_import,
}


async def node(context: RequestContext, global_id: relay.GlobalID) -> Any:
    fetch = FETCHERS.get(global_id.type_name)
    return await fetch(context, global_id) if fetch is not None else None
