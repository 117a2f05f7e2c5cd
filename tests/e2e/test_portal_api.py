"""The customer portal over GraphQL: a customer's contact asks for a one-time link (the same
answer for an unknown address), trades it once for a portal session, and then sees only their
customer's tickets (never another customer's or another agency's, even by id), opens one,
replies (a Pending ticket is Open again), reads only published public articles, and reaches
no staff field."""

from __future__ import annotations

from datetime import timedelta

from strawberry import relay

from crm.settings import Settings
from db.messages import Message
from db.tickets import Ticket
from domain import agencies, contacts, customers, knowledge_base, portal, tickets
from domain.actors import Actor
from domain.errors import DomainError
from domain.portal import PortalLimits
from domain.rate_limits import MemoryCounters
from domain.signed_links import LinkPurpose, sign
from tests.e2e.colleagues import acme_system
from tests.e2e.conftest import Api

ERRORS = "errors { field code message }"
REQUEST = f"""
mutation($agency: String!, $email: String!) {{
  requestPortalLink(input: {{agency: $agency, email: $email}}) {{ ok {ERRORS} }}
}}"""
SIGN_IN = f"""
mutation($token: String!) {{ signInToPortal(input: {{token: $token}}) {{ token {ERRORS} }} }}"""
TICKETS = "{ portalTickets(first: 20) { edges { node { id subject status channel } } } }"
TICKET = """query($id: ID!) { portalTicket(id: $id) {
  subject status conversation { fromCustomer body } } }"""
OPEN = f"""
mutation {{ openPortalTicket(input: {{subject: "Invoice missing", description: "March"}}) {{
  ticket {{ id subject status channel }} {ERRORS} }} }}"""
REPLY = f"""
mutation($id: ID!, $body: String!) {{
  replyToPortalTicket(input: {{id: $id, body: $body}}) {{ reply {{ body }} {ERRORS} }}
}}"""


def gid(type_name: str, value: object) -> str:
    return str(relay.GlobalID(type_name, str(value)))


async def contact_of_customer(system: Actor, name: str, email: str) -> tuple[str, str]:
    """A customer with one contact (ids as UUID strings)."""
    customer = await customers.create_customer(system, {"name": name})
    contact = await contacts.create_contact(system, {"first_name": name, "emails": [email]})
    await customers.link_contact(system, customer.id, contact.id, "buyer", True)
    return str(customer.id), str(contact.id)


async def portal_session(api: Api, settings: Settings, email: str) -> Api:
    """Ask for a link for `email` (a contact of a customer) and sign in with it."""
    answer = await api.as_(None).graphql(REQUEST, {"agency": "acme", "email": email})
    assert answer["requestPortalLink"] == {"ok": True, "errors": []}
    sent = await Message.filter(source="portal_sign_in").order_by("-id")
    message = next(m for m in sent if m.recipients == [email])
    purpose, _, row = message.page_link.partition(":")
    assert purpose == LinkPurpose.PORTAL_SIGN_IN
    token = sign(settings.unsubscribe_links(), LinkPurpose.PORTAL_SIGN_IN, row)
    signed_in = await api.as_(None).graphql(SIGN_IN, {"token": token})
    assert signed_in["signInToPortal"]["errors"] == []
    again = await api.as_(None).graphql(SIGN_IN, {"token": token})
    assert again["signInToPortal"]["errors"][0]["code"] == "INVALID_LINK"  # one use
    return api.as_(signed_in["signInToPortal"]["token"])


async def test_a_contact_follows_only_their_customers_tickets_in_the_portal(
    api: Api, settings: Settings
) -> None:
    system = await acme_system()
    customer, grace = await contact_of_customer(system, "Grace", "grace@example.com")
    other_customer, alan = await contact_of_customer(system, "Alan", "alan@example.com")
    ours = await tickets.create_ticket(
        system, {"subject": "Printer on fire", "customer_id": customer, "contact_id": grace}
    )
    theirs = await tickets.create_ticket(
        system, {"subject": "Alan's secret", "customer_id": other_customer, "contact_id": alan}
    )
    bolt, _, _ = await agencies.bootstrap_agency(
        "Bolt", "bolt", "admin@bolt.example.com", "Bo", "long enough password"
    )
    bolt_system = Actor.system(bolt.id, "test")
    elsewhere = await tickets.create_ticket(bolt_system, {"subject": "Bolt's ticket"})
    public = await knowledge_base.create_article(
        system, {"title": "Restart the printer", "status": "published", "visibility": "public"}
    )
    await knowledge_base.create_article(system, {"title": "Internal", "status": "published"})
    await knowledge_base.create_article(system, {"title": "Draft", "visibility": "public"})

    unknown = await api.as_(None).graphql(REQUEST, {"agency": "acme", "email": "who@example.com"})
    assert unknown["requestPortalLink"] == {"ok": True, "errors": []}  # the same answer
    assert not await Message.filter(source="portal_sign_in").exists()

    grace_api = await portal_session(api, settings, "grace@example.com")
    listed = await grace_api.graphql(TICKETS)
    assert [e["node"]["subject"] for e in listed["portalTickets"]["edges"]] == ["Printer on fire"]
    for stranger in (theirs.id, elsewhere.id):
        seen = await grace_api.graphql(TICKET, {"id": gid("Ticket", stranger)})
        assert seen["portalTicket"] is None
        refused = await grace_api.graphql(REPLY, {"id": gid("Ticket", stranger), "body": "Hi"})
        assert refused["replyToPortalTicket"]["errors"][0]["code"] == "NOT_FOUND"

    await tickets.reply_to_ticket(system, ours.id, "Please leave the room.")
    await tickets.transition_ticket(system, ours.id, "wait_on_customer")
    replied = await grace_api.graphql(REPLY, {"id": gid("Ticket", ours.id), "body": "Done."})
    assert replied["replyToPortalTicket"] == {"reply": {"body": "Done."}, "errors": []}
    shown = await grace_api.graphql(TICKET, {"id": gid("Ticket", ours.id)})
    assert shown["portalTicket"] == {
        "subject": "Printer on fire",
        "status": "OPEN",  # the customer answered a Pending ticket
        "conversation": [
            {"fromCustomer": False, "body": "Please leave the room."},
            {"fromCustomer": True, "body": "Done."},
        ],
    }

    seen_by_staff = await api.graphql(
        "query($id: ID!) { ticket(id: $id) { portalReplies { body contactId } } }",
        {"id": gid("Ticket", ours.id)},
    )
    assert seen_by_staff["ticket"]["portalReplies"] == [
        {"body": "Done.", "contactId": gid("Contact", grace)}
    ]

    opened = await grace_api.graphql(OPEN)
    ticket = opened["openPortalTicket"]["ticket"]
    assert (ticket["status"], ticket["channel"]) == ("NEW", "PORTAL")
    stored = await Ticket.get(id=relay.GlobalID.from_id(ticket["id"]).node_id)
    assert (str(stored.customer_id), str(stored.contact_id)) == (customer, grace)

    articles = await grace_api.graphql("{ portalArticles { edges { node { id title } } } }")
    assert [e["node"] for e in articles["portalArticles"]["edges"]] == [
        {"id": gid("Article", public.id), "title": "Restart the printer"}
    ]

    staff = await grace_api.post({"query": "{ tickets(first: 5) { edges { node { id } } } }"})
    assert staff.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    signed_out = await grace_api.graphql("mutation { signOutOfPortal { ok } }")
    assert signed_out["signOutOfPortal"]["ok"] is True
    after = await grace_api.post({"query": TICKETS})
    assert after.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_link_requests_are_limited_alike_for_known_and_unknown_addresses(
    api: Api, settings: Settings
) -> None:
    system = await acme_system()
    await contact_of_customer(system, "Grace", "grace@example.com")
    limits = PortalLimits(per_email=2, per_client_address=6, answer_floor=timedelta(0))
    links, counters = settings.unsubscribe_links(), MemoryCounters()

    async def ask(email: str, address: str) -> str:
        try:
            await portal.request_sign_in_link(links, limits, "acme", email, address, counters)
        except DomainError as refused:
            return str(refused.code)
        return "ok"

    for email in ("grace@example.com", "nobody@example.com"):
        assert [await ask(email, "10.0.0.1") for _ in range(3)] == [
            "ok",
            "ok",
            "TOO_MANY_ATTEMPTS",
        ]
    assert await ask("third@example.com", "10.0.0.1") == "TOO_MANY_ATTEMPTS"  # the address
    assert await Message.filter(source="portal_sign_in").count() == 2
