"""Contact resolvers: thin calls into domain.contacts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from strawberry import relay

from domain import contacts
from domain.contacts import Contact, ContactErrorCode, ContactOrderField, ContactRow
from domain.lifecycles import allowed_events
from domain.lifecycles.contact import ContactLifecycle
from resolvers.context import RequestContext, actor_of, loaders_of
from resolvers.custom_fields import record_ordering
from resolvers.errors import Outcome, answer, attempt, found_or_none
from resolvers.inputs import given, node_uuid, with_user_ids
from resolvers.pagination import connection

TYPE_NAME = "Contact"


def _id(global_id: relay.GlobalID) -> Any:
    return node_uuid(global_id, TYPE_NAME, ContactErrorCode)


async def contact(context: RequestContext, global_id: relay.GlobalID) -> Contact | None:
    """The contact, or null when it does not exist or is outside the caller's scope."""
    actor = actor_of(context)
    return await found_or_none(lambda: contacts.get_contact(actor, _id(global_id)))


def filter_criteria(where: Any) -> dict[str, Any] | None:
    """A `ContactFilter` input as `domain.contacts` takes it."""
    if where is None:
        return None
    return with_user_ids(given(where), ContactErrorCode, "owner_id")


async def contacts_page(
    context: RequestContext,
    first: int,
    after: str | None,
    where: Any,
    order_field: str,
    descending: bool,
    custom_field: str | None = None,
    fields: Collection[str] = (),
) -> relay.Connection[Any]:
    """A page of contacts; `fields`: those the query selects on each (see `load_links`)."""
    actor = actor_of(context)

    async def load() -> Any:
        ordering = record_ordering(ContactOrderField(order_field), descending, custom_field)
        return await contacts.list_contact_rows(
            actor, first, after, filter_criteria(where), ordering
        )

    page = await answer(load())
    await load_links(context, page.items, fields)
    return connection(page)


async def load_links(
    context: RequestContext, records: Sequence[ContactRow], fields: Collection[str]
) -> None:
    """The owners and customers of a page's contacts, if its query asks for them, loaded before
    the rows are completed, in one batch each (the statements the rows' DataLoaders would run):
    each row's `owner` and `customer` then answer a value at hand (`related.settled`)."""
    loaders = loaders_of(context)
    if "owner" in fields:
        await loaders.colleagues.load_many({r.owner_id for r in records if r.owner_id is not None})
    if "customer" in fields:
        await loaders.customer_of_contact.load_many([r.id for r in records])


async def create_contact(context: RequestContext, data: Any) -> Outcome[Contact]:
    actor = actor_of(context)
    return await attempt(
        ContactErrorCode,
        lambda: contacts.create_contact(
            actor, with_user_ids(given(data), ContactErrorCode, "owner_id")
        ),
    )


async def update_contact(context: RequestContext, data: Any) -> Outcome[Contact]:
    actor = actor_of(context)
    changes = given(data)
    global_id = changes.pop("id")
    return await attempt(
        ContactErrorCode,
        lambda: contacts.update_contact(
            actor, _id(global_id), with_user_ids(changes, ContactErrorCode, "owner_id")
        ),
    )


async def delete_contact(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Contact]:
    actor = actor_of(context)
    return await attempt(ContactErrorCode, lambda: contacts.delete_contact(actor, _id(global_id)))


async def transition_contact(
    context: RequestContext, global_id: relay.GlobalID, event: str
) -> Outcome[Contact]:
    actor = actor_of(context)
    return await attempt(
        ContactErrorCode, lambda: contacts.transition_contact(actor, _id(global_id), event)
    )


def contact_allowed_events(record: Contact) -> list[str]:
    return allowed_events(ContactLifecycle, record.status)
