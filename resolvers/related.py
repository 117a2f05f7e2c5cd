"""The records a record points at (owner, contact, customer, lead, deal), loaded in batches.

Every record type resolves its links here, through the request's DataLoaders, so a page of
any record costs one query per kind of link, scoped like every other read.
"""

from __future__ import annotations

from uuid import UUID

from domain.contacts import Contact
from domain.customers import Customer
from domain.deals import Deal
from domain.leads import Lead
from domain.users import User
from resolvers.context import RequestContext, loaders_of


async def colleague(context: RequestContext, user_id: UUID | None) -> User | None:
    if user_id is None:
        return None
    found: User | None = await loaders_of(context).colleagues.load(user_id)
    return found


async def contact(context: RequestContext, contact_id: UUID | None) -> Contact | None:
    if contact_id is None:
        return None
    found: Contact | None = await loaders_of(context).contacts.load(contact_id)
    return found


async def customer(context: RequestContext, customer_id: UUID | None) -> Customer | None:
    if customer_id is None:
        return None
    found: Customer | None = await loaders_of(context).customers.load(customer_id)
    return found


async def lead(context: RequestContext, lead_id: UUID | None) -> Lead | None:
    if lead_id is None:
        return None
    found: Lead | None = await loaders_of(context).leads.load(lead_id)
    return found


async def deal(context: RequestContext, deal_id: UUID | None) -> Deal | None:
    if deal_id is None:
        return None
    found: Deal | None = await loaders_of(context).deals.load(deal_id)
    return found
