"""Lead assignment: contacts and leads created without an owner go to the first matching
rule's person or team (round-robin among its active sales people, fair when a hundred arrive
at once), else to the fallback owner; a change of owner tells both people; sales heads see
how records are spread over their team."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from strawberry import relay

from db.notifications import Notification
from domain import agencies, contacts, customers, leads, users
from domain.actors import Actor, ApiScope
from domain.roles import Role
from tests.e2e.colleagues import PASSWORD, acme_system, member
from tests.e2e.conftest import Api

RULES = """
mutation($input: SetLeadAssignmentRulesInput!) {
  setLeadAssignmentRules(input: $input) {
    assignment { fallbackOwnerId rules { country postcodePrefix source minValue industry
      teamId userId } }
    errors { field code }
  }
}"""
DISTRIBUTION = "{ leadDistribution { name contacts leads } }"
REASSIGN = """
mutation($id: ID!, $owner: ID!) {
  updateContact(input: {id: $id, ownerId: $owner}) { errors { code } }
}"""


def gid(type_name: str, value: Any) -> str:
    return str(relay.GlobalID(type_name, str(value)))


def integrator(system: Actor) -> Actor:
    """An API key of Acme's (nobody in particular: what it creates has no owner)."""
    return Actor(
        agency_id=system.agency_id,
        id=f"api_key:{uuid.uuid4()}",
        api_scopes=frozenset({ApiScope.READ, ApiScope.WRITE}),
    )


async def test_a_hundred_contacts_created_at_once_are_dealt_out_fairly_to_active_sellers(
    api: Api,
) -> None:
    system = await acme_system()
    north = await agencies.create_org_unit(system, "North", None)
    sellers = [
        (await member(f"seller{n}@acme.example.com", Role.SALES_PERSON, org_unit_id=north.id)).id
        for n in range(3)
    ]
    gone = await member("gone@acme.example.com", Role.SALES_PERSON, org_unit_id=north.id)
    await users.update_user(system, gone.id, {"is_active": False})
    await member("head@acme.example.com", Role.SALES_HEAD, org_unit_id=north.id)
    saved = await api.graphql(RULES, {"input": {"rules": [{"teamId": gid("OrgUnit", north.id)}]}})
    assert saved["setLeadAssignmentRules"]["errors"] == []

    key = integrator(system)
    made = await asyncio.gather(
        *(contacts.create_contact(key, {"first_name": f"Lead {n}"}) for n in range(100))
    )

    given = Counter(contact.owner_id for contact in made)
    assert set(given) == set(sellers), given  # nobody inactive, no sales head
    assert sorted(given.values()) == [33, 33, 34]


async def test_territory_source_value_and_industry_rules_then_the_fallback_and_reassignment(
    api: Api,
) -> None:
    system = await acme_system()
    team = await agencies.create_org_unit(system, "Berlin", None)
    berlin = await member("berlin@acme.example.com", Role.SALES_PERSON, org_unit_id=team.id)
    fairs = await member("fairs@acme.example.com", Role.SALES_PERSON, org_unit_id=team.id)
    banker = await member("banker@acme.example.com", Role.SALES_PERSON)
    fallback = await member("fallback@acme.example.com", Role.SALES_PERSON)
    await member("head.berlin@acme.example.com", Role.SALES_HEAD, org_unit_id=team.id)
    rules = [
        {"country": "de", "postcodePrefix": "10", "userId": gid("User", berlin.id)},
        {"source": "Fair", "userId": gid("User", fairs.id)},
        {"minValue": "10000", "industry": "Banking", "userId": gid("User", banker.id)},
    ]
    data = {"rules": rules, "fallbackOwnerId": gid("User", fallback.id)}
    saved = (await api.graphql(RULES, {"input": data}))["setLeadAssignmentRules"]
    assert saved["errors"] == []
    assert saved["assignment"]["rules"][0]["country"] == "DE"
    both = {"rules": [{"teamId": gid("OrgUnit", team.id), "userId": gid("User", berlin.id)}]}
    refused = (await api.graphql(RULES, {"input": both}))["setLeadAssignmentRules"]
    assert refused["errors"] == [{"field": "rules.0", "code": "INVALID"}]

    key = integrator(system)

    async def contact(**fields: Any) -> uuid.UUID | None:
        made = await contacts.create_contact(key, {"first_name": "Kim", **fields})
        return made.owner_id

    address = {"country": "DE", "postal_code": "10115", "city": "Berlin"}
    assert await contact(address=address) == berlin.id
    assert await contact(address={**address, "postal_code": "80331"}) == fallback.id
    assert await contact(source="fair") == fairs.id
    bank = await customers.create_customer(system, {"name": "Bank", "industry": "banking"})
    big = await leads.create_lead(
        key,
        {
            "title": "Big",
            "customer_id": bank.id,
            "estimated_value": Decimal(20000),
            "currency": "EUR",
        },
    )
    small = await leads.create_lead(
        key,
        {
            "title": "Small",
            "customer_id": bank.id,
            "estimated_value": Decimal(500),
            "currency": "EUR",
        },
    )
    assert (big.owner_id, small.owner_id) == (banker.id, fallback.id)

    moved = await contacts.create_contact(key, {"first_name": "Moved", "address": address})
    answer = await api.graphql(
        REASSIGN, {"id": gid("Contact", moved.id), "owner": gid("User", fairs.id)}
    )
    assert answer["updateContact"]["errors"] == []
    told = await Notification.filter(kind="record_reassigned", record_id=str(moved.id))
    assert {(n.user_id, n.message) for n in told} == {
        (berlin.id, "Contact Moved was given to someone else."),
        (fairs.id, "Contact Moved is yours now."),
    }

    head = await api.sign_in("head.berlin@acme.example.com", PASSWORD)
    spread = (await head.graphql(DISTRIBUTION))["leadDistribution"]
    assert [(s["name"], s["contacts"], s["leads"]) for s in spread] == [
        ("fairs", 2, 0),
        ("berlin", 1, 0),
        ("head.berlin", 0, 0),
    ]
    seller = await api.sign_in("banker@acme.example.com", PASSWORD)
    response = await seller.post({"query": DISTRIBUTION})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
