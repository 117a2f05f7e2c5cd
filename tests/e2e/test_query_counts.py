"""Lists are served with DataLoaders: a page costs the same number of SQL statements whatever
its size (no N+1), nested relations included."""

from __future__ import annotations

import logging

import pytest

from db.users import User
from domain import contacts, custom_fields, customers, leads
from domain.actors import Actor
from tests.e2e.conftest import ADMIN_EMAIL, Api
from tests.fixtures.databases import DatabaseSource

PAGE = """
query($first: Int!) {
  contacts(first: $first) {
    edges { node {
      firstName tags owner { name }
      customer { name owner { name } contacts { role contact { firstName } } }
      customFields { key number choices }
    } }
  }
}"""


async def seed(count: int) -> None:
    admin = await User.get(email=ADMIN_EMAIL)
    actor = Actor.system(admin.agency_id, "seed")
    for key, kind, choices in (("budget", "number", []), ("topics", "multi_choice", ["a", "b"])):
        await custom_fields.define_custom_field(
            actor,
            {"record_type": "contact", "key": key, "label": key, "type": kind, "choices": choices},
        )
    for i in range(count):
        values = [{"key": "budget", "number": i}, {"key": "topics", "choices": ["a", "b"]}]
        contact = await contacts.create_contact(
            actor,
            {
                "first_name": f"P{i}",
                "tags": ["vip", f"group {i % 3}"],
                "owner_id": admin.id,
                "custom_fields": values,
            },
        )
        customer = await customers.create_customer(actor, {"name": f"Co{i}", "owner_id": admin.id})
        await customers.link_contact(actor, customer.id, contact.id, "primary", True)


async def statements(api: Api, caplog: pytest.LogCaptureFixture, first: int) -> int:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
        data = await api.graphql(PAGE, {"first": first})
    assert len(data["contacts"]["edges"]) == first
    assert all(e["node"]["customer"]["owner"]["name"] for e in data["contacts"]["edges"])
    assert all(
        [v["choices"] for v in e["node"]["customFields"]] == [[], ["a", "b"]]
        for e in data["contacts"]["edges"]
    )
    return sum(1 for record in caplog.records if record.name == "tortoise.db_client")


async def test_a_page_costs_a_constant_number_of_statements(
    api: Api, caplog: pytest.LogCaptureFixture, database_source: DatabaseSource
) -> None:
    await seed(100)
    small = await statements(api, caplog, 3)
    large = await statements(api, caplog, 100)
    assert small == large, f"{small} statements for 3 contacts, {large} for 100"
    # On PostgreSQL the caller's rate-limit counters (requests, cost) are two upserts more.
    counters = 2 if database_source.backend == "postgres" else 0
    assert 0 < large <= 12 + counters


LEADS = """
query($first: Int!) {
  leads(first: $first) {
    edges { node { title owner { name } contact { firstName } customer { name } } }
  }
}"""


async def test_a_page_of_leads_with_their_people_costs_a_constant_number_of_statements(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    admin = await User.get(email=ADMIN_EMAIL)
    actor = Actor.system(admin.agency_id, "seed")
    for i in range(20):
        contact = await contacts.create_contact(actor, {"first_name": f"P{i}"})
        customer = await customers.create_customer(actor, {"name": f"Co{i}"})
        await leads.create_lead(
            actor,
            {
                "title": f"L{i}",
                "contact_id": contact.id,
                "customer_id": customer.id,
                "owner_id": admin.id,
            },
        )

    async def count(first: int) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            data = await api.graphql(LEADS, {"first": first})
        nodes = [edge["node"] for edge in data["leads"]["edges"]]
        assert len(nodes) == first
        assert all(n["owner"] and n["contact"] and n["customer"] for n in nodes)
        return sum(1 for record in caplog.records if record.name == "tortoise.db_client")

    small, large = await count(2), await count(20)
    assert small == large, f"{small} statements for 2 leads, {large} for 20"
