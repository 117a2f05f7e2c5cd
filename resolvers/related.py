"""The records a record points at (owner, contact, customer, lead, deal), loaded in batches.

Every record type resolves its links here, through the request's DataLoaders, so a page of
any record costs one query per kind of link, scoped like every other read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Hashable
from typing import TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from domain.contacts import ContactRow
from domain.customers import CustomerRow
from domain.deals import Deal
from domain.leads import Lead
from domain.users import Colleague
from resolvers.context import RequestContext, loaders_of

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


async def _linked(loader: DataLoader[UUID, T | None], record_id: UUID | None) -> T | None:
    """The linked record, or None when there is no link or the caller may not see it."""
    return None if record_id is None else await loader.load(record_id)


async def colleague(context: RequestContext, user_id: UUID | None) -> Colleague | None:
    return await _linked(loaders_of(context).colleagues, user_id)


def settled(loader: DataLoader[K, T], key: K) -> T | Awaitable[T]:
    """The loader's value for `key` itself when it has it already (a page loaded its rows'
    links before they were completed), else its pending value, which graphql-core awaits.

    For a field's resolver: a plain function, so the field needs no coroutine of its own, and
    a value at hand needs no await, which in graphql-core is a task per row and a gather per
    list (about 600 tasks on a page of 100 contacts with their owners and customers).
    """
    future = loader.cache_map.get(key)
    if (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return future.result()
    return loader.load(key)


def owner(
    context: RequestContext, user_id: UUID | None
) -> Colleague | Awaitable[Colleague | None] | None:
    """`colleague` for a field's resolver (see `settled`)."""
    return None if user_id is None else settled(loaders_of(context).colleagues, user_id)


async def contact(context: RequestContext, contact_id: UUID | None) -> ContactRow | None:
    return await _linked(loaders_of(context).contacts, contact_id)


async def customer(context: RequestContext, customer_id: UUID | None) -> CustomerRow | None:
    return await _linked(loaders_of(context).customers, customer_id)


async def lead(context: RequestContext, lead_id: UUID | None) -> Lead | None:
    return await _linked(loaders_of(context).leads, lead_id)


async def deal(context: RequestContext, deal_id: UUID | None) -> Deal | None:
    return await _linked(loaders_of(context).deals, deal_id)
