"""Customer resolvers: thin calls into domain.customers; relations through DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from uuid import UUID

from strawberry import relay

from domain import contacts, customers
from domain.contacts import ContactErrorCode, Conversion
from domain.customers import (
    ContactLink,
    Customer,
    CustomerErrorCode,
    CustomerOrderField,
    CustomerRow,
)
from domain.errors import DomainError
from domain.lifecycles import allowed_events
from domain.lifecycles.customer import CustomerLifecycle
from resolvers import related
from resolvers.context import RequestContext, actor_of, loaders_of
from resolvers.custom_fields import record_ordering
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_user_ids
from resolvers.pagination import connection

TYPE_NAME = "Customer"
PEOPLE = ("owner_id", "operations_user_id")


def _id(global_id: relay.GlobalID, field: str = "id") -> UUID:
    try:
        return node_uuid(global_id, TYPE_NAME, CustomerErrorCode)
    except DomainError as exc:
        raise DomainError(exc.code, exc.message, field) from exc


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = with_user_ids(data, CustomerErrorCode, *PEOPLE)
    if isinstance(fields.get("parent_id"), relay.GlobalID):
        fields["parent_id"] = _id(fields["parent_id"], "parent_id")
    return fields


def filter_criteria(where: Any) -> dict[str, Any] | None:
    """A `CustomerFilter` input as `domain.customers` takes it."""
    return _fields(given(where)) if where is not None else None


async def customer(context: RequestContext, global_id: relay.GlobalID) -> Customer | None:
    actor = actor_of(context)
    return await found_or_none(lambda: customers.get_customer(actor, _id(global_id)))


async def customers_page(
    context: RequestContext,
    first: int,
    after: str | None,
    where: Any,
    order_field: str,
    descending: bool,
    custom_field: str | None = None,
) -> relay.Connection[Any]:
    actor = actor_of(context)

    async def load() -> Any:
        criteria = filter_criteria(where)
        ordering = record_ordering(CustomerOrderField(order_field), descending, custom_field)
        return await customers.list_customers(actor, first, after, criteria, ordering)

    return connection(await answer(load()))


async def create_customer(context: RequestContext, data: Any) -> Outcome[Customer]:
    actor = actor_of(context)
    return await attempt(
        CustomerErrorCode, lambda: customers.create_customer(actor, _fields(given(data)))
    )


async def update_customer(context: RequestContext, data: Any) -> Outcome[Customer]:
    actor = actor_of(context)
    changes = given(data)
    global_id = changes.pop("id")
    return await attempt(
        CustomerErrorCode,
        lambda: customers.update_customer(actor, _id(global_id), _fields(changes)),
    )


async def delete_customer(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Customer]:
    actor = actor_of(context)
    return await attempt(
        CustomerErrorCode, lambda: customers.delete_customer(actor, _id(global_id))
    )


async def transition_customer(
    context: RequestContext, global_id: relay.GlobalID, event: str
) -> Outcome[Customer]:
    actor = actor_of(context)
    return await attempt(
        CustomerErrorCode, lambda: customers.transition_customer(actor, _id(global_id), event)
    )


async def link_contact(
    context: RequestContext,
    global_id: relay.GlobalID,
    contact: relay.GlobalID,
    role: str,
    is_primary: bool,
) -> Outcome[Customer]:
    actor = actor_of(context)

    async def link() -> Customer:
        contact_id = node_uuid(contact, "Contact", CustomerErrorCode)
        return await customers.link_contact(actor, _id(global_id), contact_id, role, is_primary)

    return await attempt(CustomerErrorCode, link)


async def unlink_contact(
    context: RequestContext, global_id: relay.GlobalID, contact: relay.GlobalID
) -> Outcome[Customer]:
    actor = actor_of(context)

    async def unlink() -> Customer:
        contact_id = node_uuid(contact, "Contact", CustomerErrorCode)
        return await customers.unlink_contact(actor, _id(global_id), contact_id)

    return await attempt(CustomerErrorCode, unlink)


async def convert_contact(
    context: RequestContext,
    contact: relay.GlobalID,
    existing: relay.GlobalID | None,
    new_customer: Any,
) -> Outcome[Conversion]:
    actor = actor_of(context)

    async def convert() -> Conversion:
        contact_id = node_uuid(contact, "Contact", ContactErrorCode)
        customer_id = _id(existing, "customer_id") if existing else None
        fields = _fields(given(new_customer)) if new_customer is not None else None
        return await contacts.convert_contact(actor, contact_id, customer_id, fields)

    return await attempt(ContactErrorCode, convert)


def customer_allowed_events(record: Customer) -> list[str]:
    return allowed_events(CustomerLifecycle, record.status)


async def contact_links(context: RequestContext, record: Customer) -> list[ContactLink]:
    links: list[ContactLink] = await loaders_of(context).contact_links.load(record.id)
    return links


def customer_of_contact(
    context: RequestContext, contact_id: UUID
) -> CustomerRow | Awaitable[CustomerRow | None] | None:
    """The contact's customer, for a field's resolver (see `related.settled`)."""
    return related.settled(loaders_of(context).customer_of_contact, contact_id)
