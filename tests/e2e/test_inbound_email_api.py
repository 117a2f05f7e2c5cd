"""Inbound mail as people see it: the agency's addresses, who owns the leads mail makes, and
a message from a new sender becoming a lead whose contact's timeline shows what they wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import pytest
from strawberry import relay

from crm.inbound_smtp import InboundHandler, InboundLimits, start_server
from crm.settings import Settings
from db.inbound_emails import InboundEmail
from domain.inbound_emails import InboundStatus
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api
from tests.fixtures.flows import Flows, eventually
from tests.fixtures.smtp import LOOPBACK, free_port

ERRORS = "errors { field code message }"
AGENCY = "query { agency { slug leadAssignee inboundAddresses { sales support } } }"
UPDATE = f"""
mutation($input: UpdateAgencyInput!) {{
  updateAgency(input: $input) {{ agency {{ leadAssignee }} {ERRORS} }}
}}"""
LEADS = """
query {
  leads(first: 10) {
    edges { node { id title source ownerId contact { id firstName lastName companyName } } }
  }
}"""
RECEIVED = """
id mailbox fromAddress fromName subject replyText outcome contactId leadId inReplyToId
"""
TIMELINE = f"""
query($id: ID!) {{
  timeline(recordId: $id, first: 10) {{
    edges {{ node {{ kind ... on ReceivedEmailEntry {{ email {{ {RECEIVED} }} }} }} }}
  }}
}}"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on ReceivedEmail {{ {RECEIVED} }} }} }}"


async def test_the_agency_has_inbound_addresses_under_the_operators_domain(api: Api) -> None:
    agency = (await api.graphql(AGENCY))["agency"]

    assert agency["inboundAddresses"] == {
        "sales": "sales@acme.inbound.localhost",
        "support": "support@acme.inbound.localhost",
    }
    assert agency["leadAssignee"] == "role:sales_person"


async def test_admins_choose_who_owns_leads_from_mail(api: Api) -> None:
    _, seller_id = await colleague(api, Role.SALES_PERSON)
    seller = str(relay.GlobalID("User", str(seller_id)))

    chosen = (await api.graphql(UPDATE, {"input": {"leadAssignee": seller}}))["updateAgency"]
    assert chosen == {"agency": {"leadAssignee": seller}, "errors": []}
    by_role = await api.graphql(UPDATE, {"input": {"leadAssignee": "role:sales_head"}})
    assert by_role["updateAgency"]["agency"] == {"leadAssignee": "role:sales_head"}

    unknown_role = await api.graphql(UPDATE, {"input": {"leadAssignee": "role:wizard"}})
    assert unknown_role["updateAgency"]["errors"][0]["code"] == "INVALID"
    other = await other_agency_admin(api)
    stranger = (await other.graphql("query { me { id } }"))["me"]["id"]
    foreign = await api.graphql(UPDATE, {"input": {"leadAssignee": stranger}})
    assert foreign["updateAgency"]["errors"][0]["code"] == "NOT_FOUND"
    sales_person, _ = await colleague(api, Role.SALES_PERSON)
    refused = await sales_person.graphql(UPDATE, {"input": {"leadAssignee": "role:sales_head"}})
    assert refused["updateAgency"]["errors"][0]["code"] == "FORBIDDEN"


@pytest.fixture
async def inbound_port(settings: Settings, sending: Flows) -> AsyncIterator[int]:
    handler = InboundHandler(sending.documents, sending.links, InboundLimits())
    port = free_port()
    server = await start_server(handler, LOOPBACK, port, 1_000_000)
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


async def test_mail_from_a_new_sender_becomes_a_lead_with_the_mail_on_its_timeline(
    api: Api, sending: Flows, inbound_port: int
) -> None:
    _, seller_id = await colleague(api, Role.SALES_PERSON)
    mail = EmailMessage()
    mail["From"] = "Jane Doe <jane@widgets.example>"
    mail["To"] = "sales@acme.inbound.localhost"
    mail["Subject"] = "Forty desks"
    mail["Message-ID"] = "<desks-1@widgets.example>"
    mail.set_content("Could you send an offer?\n\nBest regards,\nJane Doe\nWidgets Ltd\n")

    async with aiosmtplib.SMTP(hostname=LOOPBACK, port=inbound_port) as client:
        await client.send_message(mail)

    async def processed() -> InboundEmail | None:
        await sending.relay_all()
        return await InboundEmail.get_or_none(
            agency_id=sending.agency_id, status=InboundStatus.PROCESSED
        )

    async with sending.worker():
        await eventually(processed)

    (edge,) = (await api.graphql(LEADS))["leads"]["edges"]
    lead = edge["node"]
    assert (lead["title"], lead["source"]) == ("Forty desks", "email")
    assert lead["ownerId"] == str(relay.GlobalID("User", str(seller_id)))
    assert lead["contact"]["firstName"] == "Jane"
    assert lead["contact"]["companyName"] == "Widgets Ltd"

    on_timelines = []
    for record in (lead["contact"]["id"], lead["id"]):
        edges = (await api.graphql(TIMELINE, {"id": record}))["timeline"]["edges"]
        on_timelines += [e["node"]["email"] for e in edges if e["node"]["kind"] == "RECEIVED_EMAIL"]
    email, on_lead = on_timelines
    assert email == on_lead
    assert email["replyText"] == "Could you send an offer?"
    assert (email["outcome"], email["mailbox"]) == ("new_lead", "sales")
    assert email["fromName"] == "Jane Doe"
    assert (email["contactId"], email["leadId"]) == (lead["contact"]["id"], lead["id"])
    assert (await api.graphql(NODE, {"id": email["id"]}))["node"] == email
    other = await other_agency_admin(api)
    assert (await other.graphql(NODE, {"id": email["id"]}))["node"] is None
