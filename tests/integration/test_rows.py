"""Rows read for display (domain.rows) hold what model objects of the same query hold, on
both databases: every column converted by the model's own converter, annotations as read."""

from __future__ import annotations

import pytest
from tortoise.expressions import RawSQL

from db.contacts import Contact
from db.customers import Customer
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.contacts import ContactRow, contacts_by_ids, create_contact, list_contact_rows
from domain.customers import (
    CustomerRow,
    create_customer,
    customers_by_ids,
    customers_of_contacts,
    link_contact,
)
from domain.roles import Role
from domain.rows import read_rows
from tests.fixtures.databases import OpenDatabase


async def an_admin() -> Actor:
    agency, admin, _ = await bootstrap_agency(
        "Acme", "acme", "admin@acme.example.com", "Ada Admin", "correct horse battery"
    )
    return Actor(
        agency_id=agency.id, id=f"user:{admin.id}", user_id=admin.id, roles=frozenset({Role.ADMIN})
    )


def columns(record: object, model: type[Contact] | type[Customer]) -> dict[str, object]:
    return {
        name: getattr(record, name)
        for name in model._meta.fields_map
        if name in model._meta.fields_db_projection
    }


async def test_a_row_holds_every_column_as_the_model_object_does(db: OpenDatabase) -> None:
    actor = await an_admin()
    ada = await create_contact(
        actor,
        {
            "first_name": "Ada",
            "emails": ["ada@example.com"],
            "tags": ["vip"],
            "address": {"city": "London", "latitude": 51.5},
        },
    )
    await create_contact(actor, {"first_name": "Bob"})
    models = await Contact.filter(agency_id=actor.agency_id).order_by("created_at")
    rows = await read_rows(
        Contact.filter(agency_id=actor.agency_id).order_by("created_at"), ContactRow
    )
    assert [columns(row, Contact) for row in rows] == [columns(m, Contact) for m in models]
    assert rows[0].pk == ada.id
    assert rows[0].tags == ["vip"]
    assert rows[0].latitude == 51.5

    annotated = await read_rows(
        Contact.filter(id=ada.id).annotate(answer=RawSQL("41 + 1")), ContactRow
    )
    assert annotated[0].answer == 42
    with pytest.raises(AttributeError):
        _ = rows[0].no_such_column


async def test_the_loaders_and_the_list_answer_rows_of_what_the_actor_may_read(
    db: OpenDatabase,
) -> None:
    actor = await an_admin()
    ada = await create_contact(actor, {"first_name": "Ada"})
    acme = await create_customer(actor, {"name": "Acme Ltd"})
    await link_contact(actor, acme.id, ada.id, "buyer", is_primary=True)
    page = await list_contact_rows(actor, 10)
    assert [(type(row), row.id, row.first_name) for row in page.items] == [
        (ContactRow, ada.id, "Ada")
    ]
    assert (await contacts_by_ids(actor, [ada.id]))[ada.id].first_name == "Ada"
    found = await customers_by_ids(actor, [acme.id])
    assert isinstance(found[acme.id], CustomerRow)
    assert found[acme.id].name == "Acme Ltd"
    linked = await customers_of_contacts(actor, [ada.id])
    assert linked[ada.id].id == acme.id
