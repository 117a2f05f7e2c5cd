"""Contact resolvers: thin calls into domain.contacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry import relay

from domain import contacts
from domain.contacts import Contact, ContactErrorCode, ContactFilter, ContactOrderField
from domain.errors import DomainError, DomainErrors
from domain.lifecycles import allowed_events
from domain.lifecycles.contact import ContactLifecycle
from domain.pagination import Ordering
from resolvers.context import RequestContext
from resolvers.errors import UserErrorData, query_error, user_errors
from resolvers.inputs import given, node_uuid
from resolvers.pagination import connection

TYPE_NAME = "Contact"


@dataclass(slots=True)
class ContactPayloadData:
    contact: Contact | None = None
    errors: list[UserErrorData] = field(default_factory=list)


def _unknown(global_id: object) -> DomainErrors:
    return DomainErrors(
        [DomainError(ContactErrorCode.NOT_FOUND, f"No contact with id {global_id}.", "id")]
    )


async def contact(context: RequestContext, global_id: relay.GlobalID) -> Contact | None:
    contact_id = node_uuid(global_id, TYPE_NAME)
    if contact_id is None:
        return None
    try:
        return await contacts.get_contact(context.actor, contact_id)
    except DomainError:
        return None


async def contacts_page(
    context: RequestContext,
    first: int,
    after: str | None,
    where: Any,
    order_field: str,
    descending: bool,
) -> relay.Connection[Any]:
    try:
        page = await contacts.list_contacts(
            context.actor,
            first,
            after,
            ContactFilter.model_validate(given(where)) if where is not None else None,
            Ordering(ContactOrderField(order_field), descending),
        )
    except DomainError as exc:
        raise query_error(exc) from exc
    return connection(page)


async def create_contact(context: RequestContext, data: Any) -> ContactPayloadData:
    try:
        return ContactPayloadData(await contacts.create_contact(context.actor, given(data)))
    except (DomainError, DomainErrors) as exc:
        return ContactPayloadData(errors=user_errors(exc))


async def update_contact(context: RequestContext, data: Any) -> ContactPayloadData:
    changes = given(data)
    global_id = changes.pop("id")
    try:
        contact_id = node_uuid(global_id, TYPE_NAME)
        if contact_id is None:
            raise _unknown(global_id)
        return ContactPayloadData(await contacts.update_contact(context.actor, contact_id, changes))
    except (DomainError, DomainErrors) as exc:
        return ContactPayloadData(errors=user_errors(exc))


async def delete_contact(context: RequestContext, global_id: relay.GlobalID) -> ContactPayloadData:
    try:
        contact_id = node_uuid(global_id, TYPE_NAME)
        if contact_id is None:
            raise _unknown(global_id)
        return ContactPayloadData(await contacts.delete_contact(context.actor, contact_id))
    except (DomainError, DomainErrors) as exc:
        return ContactPayloadData(errors=user_errors(exc))


async def transition_contact(
    context: RequestContext, global_id: relay.GlobalID, event: str
) -> ContactPayloadData:
    try:
        contact_id = node_uuid(global_id, TYPE_NAME)
        if contact_id is None:
            raise _unknown(global_id)
        return ContactPayloadData(
            await contacts.transition_contact(context.actor, contact_id, event)
        )
    except (DomainError, DomainErrors) as exc:
        return ContactPayloadData(errors=user_errors(exc))


def contact_allowed_events(record: Contact) -> list[str]:
    return allowed_events(ContactLifecycle, record.status)
