"""`node(id)` refetches a record by its global id, with the same scope as its own root field."""

from __future__ import annotations

import uuid

from strawberry import relay

from tests.e2e.colleagues import other_agency_admin
from tests.e2e.conftest import Api

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Contact { firstName }
    ... on Customer { name }
    ... on Lead { title }
  }
}"""
SEED = """
mutation {
  createContact(input: {firstName: "Ana"}) { contact { id } }
  createCustomer(input: {name: "Initech"}) { customer { id } }
  createLead(input: {title: "Redesign"}) { lead { id } }
  createTag(input: {name: "VIP"}) { tag { id } }
}"""


async def test_node_refetches_each_record_type_it_knows(api: Api) -> None:
    seeded = await api.graphql(SEED)
    contact = seeded["createContact"]["contact"]["id"]
    customer = seeded["createCustomer"]["customer"]["id"]
    lead = seeded["createLead"]["lead"]["id"]
    assert (await api.graphql(NODE, {"id": contact}))["node"] == {
        "__typename": "Contact",
        "id": contact,
        "firstName": "Ana",
    }
    assert (await api.graphql(NODE, {"id": customer}))["node"]["name"] == "Initech"
    assert (await api.graphql(NODE, {"id": lead}))["node"]["title"] == "Redesign"
    # a type node() does not serve, and an id that names nothing
    assert (await api.graphql(NODE, {"id": seeded["createTag"]["tag"]["id"]}))["node"] is None
    missing = str(relay.GlobalID("Contact", str(uuid.uuid4())))
    assert (await api.graphql(NODE, {"id": missing}))["node"] is None


async def test_another_agency_gets_null(api: Api) -> None:
    contact = (await api.graphql(SEED))["createContact"]["contact"]["id"]
    bolt = await other_agency_admin(api)
    assert (await bolt.graphql(NODE, {"id": contact}))["node"] is None
