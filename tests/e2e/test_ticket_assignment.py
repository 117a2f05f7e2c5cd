"""Ticket assignment: rules an admin edits send a new ticket to a team's queue, and the team's
active agents get its tickets in turn, fairly even when they are opened at once."""

from __future__ import annotations

import asyncio
from collections import Counter

from strawberry import relay

from db.tickets import Ticket
from domain import agencies, tickets, users
from domain.actors import Actor
from domain.roles import Role
from tests.e2e.colleagues import acme_system
from tests.e2e.conftest import Api

PASSWORD = "long enough password"
RULES = """
mutation($input: SetTicketAssignmentRulesInput!) {
  setTicketAssignmentRules(input: $input) { rules { category priority rating teamId }
    errors { field code } }
}"""


async def member(system: Actor, name: str, unit: object, role: Role, active: bool = True) -> str:
    user = await users.create_user(
        system,
        {
            "email": f"{name}@acme.example.com",
            "name": name,
            "password": PASSWORD,
            "roles": [role],
            "org_unit_id": unit,
        },
    )
    if not active:
        await users.update_user(system, user.id, {"is_active": False})
    return str(user.id)


async def test_tickets_opened_at_once_are_dealt_out_in_turn_to_active_agents(api: Api) -> None:
    system = await acme_system()
    desk = await agencies.create_org_unit(system, "Desk", None)
    agents = [await member(system, f"agent{n}", desk.id, Role.CUSTOMER_SUPPORT) for n in range(3)]
    await member(system, "gone", desk.id, Role.CUSTOMER_SUPPORT, active=False)
    await member(system, "seller", desk.id, Role.SALES_PERSON)

    opened = await asyncio.gather(
        *(
            tickets.create_ticket(system, {"subject": f"Help {n}", "team_id": desk.id})
            for n in range(9)
        )
    )

    given = Counter(str(ticket.assignee_id) for ticket in opened)
    assert given == dict.fromkeys(agents, 3)


async def test_rules_route_by_category_priority_and_rating_and_the_rest_wait_in_no_queue(
    api: Api,
) -> None:
    system = await acme_system()
    billing = await agencies.create_org_unit(system, "Billing", None)
    vip = await agencies.create_org_unit(system, "VIP", None)
    biller = await member(system, "biller", billing.id, Role.CUSTOMER_SUPPORT)
    await member(system, "concierge", vip.id, Role.CUSTOMER_SUPPORT)
    team = {
        "billing": str(relay.GlobalID("OrgUnit", str(billing.id))),
        "vip": str(relay.GlobalID("OrgUnit", str(vip.id))),
    }
    rules = [
        {"category": "Billing", "teamId": team["billing"]},
        {"priority": "urgent", "rating": "Gold", "teamId": team["vip"]},
    ]
    saved = (await api.graphql(RULES, {"input": {"rules": rules}}))["setTicketAssignmentRules"]
    assert saved["errors"] == []
    assert [r["category"] for r in saved["rules"]] == ["billing", ""]
    wrong = [{"teamId": str(relay.GlobalID("OrgUnit", "00000000-0000-0000-0000-000000000000"))}]
    refused = (await api.graphql(RULES, {"input": {"rules": wrong}}))["setTicketAssignmentRules"]
    assert refused["errors"] == [{"field": "rules.0.teamId", "code": "NOT_FOUND"}]

    gold = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Gold Co", "rating": "gold"}
    )
    customer_id = relay.GlobalID.from_id(gold).node_id
    invoice = await tickets.create_ticket(system, {"subject": "Invoice", "category": "BILLING"})
    urgent = await tickets.create_ticket(
        system, {"subject": "Down", "priority": "urgent", "customer_id": customer_id}
    )
    other = await tickets.create_ticket(system, {"subject": "Hello", "priority": "urgent"})

    assert (invoice.team_id, str(invoice.assignee_id)) == (billing.id, biller)
    assert urgent.team_id == vip.id
    assert (other.team_id, other.assignee_id) == (None, None)
    assert await Ticket.filter(assignee_id__isnull=True).count() == 1
