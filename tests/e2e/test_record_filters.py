"""The filters every sales record list shares, over GraphQL/HTTP on both databases: creation
dates (from inclusive, before exclusive) on contacts, customers, leads, deals and calling
tasks alike, and bad criteria refused with a typed error on the field."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from strawberry import relay
from tortoise.models import Model

from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.customers import Customer
from db.deals import Deal
from db.leads import Lead
from db.users import User
from domain import calling_tasks, contacts, customers, deals, leads
from domain.actors import Actor
from tests.e2e.conftest import ADMIN_EMAIL, Api

Create = Callable[[Actor, uuid.UUID, str], Awaitable[Model]]


async def new_contact(actor: Actor, owner: uuid.UUID, name: str) -> Model:
    return await contacts.create_contact(actor, {"first_name": name, "owner_id": owner})


async def new_customer(actor: Actor, owner: uuid.UUID, name: str) -> Model:
    return await customers.create_customer(actor, {"name": name, "owner_id": owner})


async def new_lead(actor: Actor, owner: uuid.UUID, name: str) -> Model:
    return await leads.create_lead(actor, {"title": name, "services": ["SEO"], "owner_id": owner})


async def new_deal(actor: Actor, owner: uuid.UUID, name: str) -> Model:
    data = {"name": name, "expected_close_date": "2030-01-01", "owner_id": owner}
    return await deals.create_deal(actor, data)


async def new_calling_task(actor: Actor, owner: uuid.UUID, name: str) -> Model:
    about = await contacts.create_contact(actor, {"first_name": f"About {name}", "owner_id": owner})
    data = {"subject": name, "contact_id": about.id, "assignee_id": owner}
    return await calling_tasks.create_calling_task(actor, data)


# (list field, filter input type, GraphQL type, model, how to make one)
RECORDS: dict[str, tuple[str, str, str, type[Model], Create]] = {
    "contact": ("contacts", "ContactFilter", "Contact", Contact, new_contact),
    "customer": ("customers", "CustomerFilter", "Customer", Customer, new_customer),
    "lead": ("leads", "LeadFilter", "Lead", Lead, new_lead),
    "deal": ("deals", "DealFilter", "Deal", Deal, new_deal),
    "calling_task": (
        "callingTasks",
        "CallingTaskFilter",
        "CallingTask",
        CallingTask,
        new_calling_task,
    ),
}


def list_query(field: str, filter_type: str) -> str:
    edges = "edges { node { id } }"
    return f"query($where: {filter_type}) {{ {field}(first: 50, filter: $where) {{ {edges} }} }}"


MONTHS = [datetime(2026, month, 1, tzinfo=UTC) for month in (1, 2, 3)]


@pytest.mark.parametrize("record_type", sorted(RECORDS))
async def test_every_record_list_filters_by_creation_date(api: Api, record_type: str) -> None:
    field, filter_type, type_name, model, create = RECORDS[record_type]
    admin = await User.get(email=ADMIN_EMAIL)
    actor = Actor.system(admin.agency_id, "test")
    made = {}
    for when in MONTHS:
        record = await create(actor, admin.id, f"Made {when:%B}")
        # Creation times cannot be chosen through the API: set them where they are kept.
        await model.filter(id=record.pk).update(created_at=when)
        made[when.month] = str(relay.GlobalID(type_name, str(record.pk)))
    query = list_query(field, filter_type)

    async def listed(where: dict[str, Any]) -> set[str]:
        data = await api.graphql(query, {"where": where})
        return {edge["node"]["id"] for edge in data[field]["edges"]} & set(made.values())

    february, march = MONTHS[1].isoformat(), MONTHS[2].isoformat()
    assert await listed({"createdAfter": february}) == {made[2], made[3]}  # from: inclusive
    assert await listed({"createdBefore": february}) == {made[1]}  # before: exclusive
    assert await listed({"createdAfter": february, "createdBefore": march}) == {made[2]}


@pytest.mark.parametrize("record_type", sorted(RECORDS))
async def test_a_bad_filter_is_a_typed_error_on_every_record_list(
    api: Api, record_type: str
) -> None:
    field, filter_type, _, _, _ = RECORDS[record_type]
    query = list_query(field, filter_type)
    body = (await api.post({"query": query, "variables": {"where": {"search": "x" * 101}}})).json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "TOO_LONG", "field": "search"}, error
