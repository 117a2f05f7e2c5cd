"""Tickets as a support agent works them over GraphQL: open one for a contact, write an
internal note and a public reply (emailed with a Reply-To that threads the answer back),
resolve it (a reply or a reason first), reopen it within the window, and find it on the
ticket's, the contact's and the customer's timelines."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from strawberry import relay

from db.agencies import Agency
from db.audit import AuditEntry
from db.events import Event
from db.messages import Message
from domain import tickets
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api
from tests.e2e.test_meetings_api import a_contact, at, propose
from tests.e2e.test_messages_api import delivered
from tests.fixtures.flows import Flows
from tests.fixtures.smtp import SmtpServer

ERRORS = "errors { field code message }"
TICKET = (
    "id subject status priority channel category allowedEvents resolutionReason "
    "firstResponseAt resolvedAt assignee { name } contact { firstName } customer { name }"
)
CREATE = f"""
mutation($input: CreateTicketInput!) {{
  createTicket(input: $input) {{ ticket {{ {TICKET} }} {ERRORS} }}
}}"""
TRANSITION = f"""
mutation($id: ID!, $event: TicketEvent!, $reason: String! = "") {{
  transitionTicket(input: {{id: $id, event: $event, reason: $reason}}) {{
    ticket {{ {TICKET} }} {ERRORS}
  }}
}}"""
REPLY = f"""
mutation($id: ID!, $body: String!) {{
  replyToTicket(input: {{id: $id, body: $body}}) {{
    message {{ id status kind recipients subject recordId }} {ERRORS}
  }}
}}"""
NOTE = """
mutation($id: ID!, $body: String!) {
  addNote(input: {recordId: $id, body: $body}) { note { id } errors { code } }
}"""
LIST = """
query($filter: TicketFilter) {
  tickets(first: 20, filter: $filter) { edges { node { id subject status priority } } }
}"""
TIMELINE = """
query($id: ID!) {
  timeline(recordId: $id, first: 20) { edges { node {
    kind
    ... on NoteEntry { note { body } }
    ... on EmailEntry { subject }
    ... on TicketEntry { ticket { subject } }
    ... on StatusChangeEntry { event fromStatus toStatus }
  } } }
}"""


def _uuid(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


async def a_customer_with_contact(api: Api) -> tuple[str, str]:
    contact = await api.created(
        "CreateContactInput",
        "createContact",
        "contact",
        {"firstName": "Grace", "emails": ["grace@example.com"]},
    )
    customer = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Hopper Ltd"}
    )
    return customer, contact


async def open_ticket(api: Api, **fields: Any) -> dict[str, Any]:
    answer: dict[str, Any] = (await api.graphql(CREATE, {"input": fields}))["createTicket"]
    assert answer["errors"] == [], answer
    return dict(answer["ticket"])


async def send(api: Api, ticket_id: str, event: str, reason: str = "") -> dict[str, Any]:
    variables = {"id": ticket_id, "event": event, "reason": reason}
    answer: dict[str, Any] = (await api.graphql(TRANSITION, variables))["transitionTicket"]
    return answer


async def test_an_agent_answers_a_ticket_and_resolves_it_and_it_shows_on_every_timeline(
    api: Api, sending: Flows, smtp_server: SmtpServer
) -> None:
    customer_id, contact_id = await a_customer_with_contact(api)
    agent, agent_id = await colleague(api, Role.CUSTOMER_SUPPORT)
    ticket = await open_ticket(
        api,
        subject="Printer on fire",
        description="Smoke since this morning.",
        priority="URGENT",
        channel="PHONE",
        category="hardware",
        customerId=customer_id,
        contactId=contact_id,
        assigneeId=str(relay.GlobalID("User", str(agent_id))),
    )
    assert (ticket["status"], ticket["priority"], ticket["channel"]) == ("NEW", "URGENT", "PHONE")
    assert ticket["allowedEvents"] == ["START", "WAIT_ON_CUSTOMER", "RESOLVE"]
    assert (ticket["contact"]["firstName"], ticket["customer"]["name"]) == ("Grace", "Hopper Ltd")
    ticket_id = ticket["id"]

    started = await send(agent, ticket_id, "START")
    assert started["ticket"]["status"] == "OPEN"
    unanswered = await send(agent, ticket_id, "RESOLVE")
    assert unanswered["errors"] == [
        {
            "field": "reason",
            "code": "GUARD_FAILED",
            "message": "Reply to the customer, or give a reason, before resolving the ticket.",
        }
    ]
    noted = await agent.graphql(NOTE, {"id": ticket_id, "body": "Fire brigade called."})
    assert noted["addNote"]["errors"] == []
    replied = (await agent.graphql(REPLY, {"id": ticket_id, "body": "Please leave the room."}))[
        "replyToTicket"
    ]
    assert replied["errors"] == []
    message = replied["message"]
    assert (message["kind"], message["recipients"], message["subject"]) == (
        "TRANSACTIONAL",
        ["grace@example.com"],
        "Re: Printer on fire",
    )
    assert message["recordId"] == ticket_id
    await delivered(sending, message["id"])
    [mail] = smtp_server.messages
    assert mail.message["Reply-To"].startswith("reply+")
    body = mail.message.get_body(("plain",))
    assert body is not None
    assert "Please leave the room." in body.get_content()

    resolved = await send(agent, ticket_id, "RESOLVE")
    assert resolved["errors"] == []
    assert resolved["ticket"]["status"] == "RESOLVED"
    assert resolved["ticket"]["firstResponseAt"] is not None
    assert resolved["ticket"]["allowedEvents"] == ["REOPEN", "CLOSE"]

    entries = (await agent.graphql(TIMELINE, {"id": ticket_id}))["timeline"]["edges"]
    kinds = [(e["node"]["kind"], e["node"].get("event") or "") for e in entries]
    assert kinds == [
        ("EMAIL", ""),  # the satisfaction survey
        ("STATUS_CHANGE", "resolve"),
        ("EMAIL", ""),
        ("NOTE", ""),
        ("STATUS_CHANGE", "start"),
    ]
    for record_id in (contact_id, customer_id):
        around = (await agent.graphql(TIMELINE, {"id": record_id}))["timeline"]["edges"]
        mine = [e["node"] for e in around if e["node"]["kind"] in ("TICKET", "STATUS_CHANGE")]
        assert mine[-1] == {"kind": "TICKET", "ticket": {"subject": "Printer on fire"}}
        assert {"kind": "STATUS_CHANGE", "event": "resolve", "fromStatus": "open",
                "toStatus": "resolved"} in mine  # fmt: skip

    record = str(_uuid(ticket_id))
    audited = AuditEntry.filter(entity_id=record).order_by("id")
    actions: list[str] = await audited.values_list("action", flat=True)  # type: ignore[assignment]
    assert actions == ["create", "transition:start", "reply", "transition:resolve"]
    announced = Event.filter(aggregate_id=record).order_by("id")
    events: list[str] = await announced.values_list("type", flat=True)  # type: ignore[assignment]
    assert events == [
        "ticket.created",
        "ticket.transitioned",
        "ticket.replied",
        "ticket.transitioned",
    ]


async def test_resolving_with_a_reason_then_reopening_works_only_within_the_window(
    api: Api,
) -> None:
    ticket = await open_ticket(api, subject="Invoice copy")
    resolved = await send(api, ticket["id"], "RESOLVE", reason="Sent by post.")
    assert resolved["ticket"]["resolutionReason"] == "Sent by post."
    reopened = await send(api, ticket["id"], "REOPEN")
    assert reopened["errors"] == []
    assert reopened["ticket"]["status"] == "OPEN"

    await send(api, ticket["id"], "RESOLVE", reason="Sent again.")
    await Agency.all().update(ticket_reopen_days=0)
    late = await send(api, ticket["id"], "REOPEN")
    assert [e["code"] for e in late["errors"]] == ["GUARD_FAILED"]
    illegal = await send(api, ticket["id"], "START")
    assert illegal["errors"][0]["code"] == "INVALID_TRANSITION"


async def test_the_closing_timer_closes_a_resolved_ticket_but_not_one_reopened_since(
    api: Api, sending: Flows
) -> None:
    ticket = await open_ticket(api, subject="Password reset")
    await send(api, ticket["id"], "RESOLVE", reason="Reset done.")
    other = await open_ticket(api, subject="VPN")
    await send(api, other["id"], "RESOLVE", reason="Works now.")
    await send(api, other["id"], "REOPEN")
    await sending.relay_all()

    results = []
    async with sending.worker():
        for record in (ticket, other):
            row = await tickets.Ticket.get(id=_uuid(record["id"]))
            handle = sending.client.get_workflow_handle(tickets.closing_workflow_id(row))
            results.append(await sending.result(handle))

    assert results == [True, False]
    closed = await tickets.Ticket.get(id=_uuid(ticket["id"]))
    assert closed.status == "closed"
    assert closed.closed_at is not None
    row = await tickets.Ticket.get(id=_uuid(ticket["id"]))
    run = await sending.client.get_workflow_handle(tickets.closing_workflow_id(row)).describe()
    assert run.close_time is not None
    assert row.resolved_at is not None
    window_end = row.resolved_at + timedelta(days=7)  # the agency's window
    assert abs(run.close_time - window_end) < timedelta(seconds=5)
    assert (await tickets.Ticket.get(id=_uuid(other["id"]))).status == "open"


async def test_lists_filter_by_status_priority_and_text_and_sales_people_see_only_theirs(
    api: Api,
) -> None:
    rep, _ = await colleague(api, Role.SALES_PERSON)
    await open_ticket(api, subject="Login fails", priority="HIGH")
    await open_ticket(api, subject="Refund please", priority="LOW")
    theirs = await open_ticket(rep, subject="Question about the offer")
    assert theirs["assignee"]["name"] == "sales_person"

    high = (await api.graphql(LIST, {"filter": {"priorityIn": ["HIGH"]}}))["tickets"]["edges"]
    assert [e["node"]["subject"] for e in high] == ["Login fails"]
    found = (await api.graphql(LIST, {"filter": {"search": "REFUND"}}))["tickets"]["edges"]
    assert [e["node"]["subject"] for e in found] == ["Refund please"]
    new = (await api.graphql(LIST, {"filter": {"statusIn": ["NEW"]}}))["tickets"]["edges"]
    assert len(new) == 3
    seen = (await rep.graphql(LIST))["tickets"]["edges"]
    assert [e["node"]["subject"] for e in seen] == ["Question about the offer"]
    marketer, _ = await colleague(api, Role.MARKETING)
    refused = await marketer.post({"query": "{ tickets(first: 5) { edges { node { id } } } }"})
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_reply_needs_a_contact_with_an_address_and_closed_tickets_do_not_change(
    api: Api,
) -> None:
    ticket = await open_ticket(api, subject="No one to answer")
    answer = (await api.graphql(REPLY, {"id": ticket["id"], "body": "Hello"}))["replyToTicket"]
    assert [e["code"] for e in answer["errors"]] == ["NO_ADDRESS"]
    assert await Message.filter(record_type="ticket").count() == 0
    await send(api, ticket["id"], "RESOLVE", reason="Spam.")
    await send(api, ticket["id"], "CLOSE")
    changed = await api.graphql(
        f'mutation($id: ID!) {{ updateTicket(input: {{id: $id, subject: "x"}}) {{ {ERRORS} }} }}',
        {"id": ticket["id"]},
    )
    assert [e["code"] for e in changed["updateTicket"]["errors"]] == ["CLOSED"]
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert (await tickets.Ticket.get(id=_uuid(ticket["id"]))).closed_at > since  # type: ignore[operator]


LINKED = """query($id: ID!) { ticket(id: $id) {
  callingTasks { subject ticketId } meetings { title ticketId } } }"""


async def test_calls_and_meetings_linked_to_a_ticket_show_on_it_for_those_who_may_read_them(
    api: Api,
) -> None:
    sales, sales_id = await colleague(api, Role.SALES_PERSON)  # reads only their tickets
    contact = await a_contact(api, owner=sales_id)
    fields = {"subject": "Slow site", "contactId": contact}
    ticket = await api.created("CreateTicketInput", "createTicket", "ticket", fields)
    task = await api.graphql(
        "mutation($input: CreateCallingTaskInput!) { createCallingTask(input: $input) "
        "{ callingTask { ticketId } errors { field code } } }",
        {"input": {"subject": "Call about the site", "contactId": contact, "ticketId": ticket}},
    )
    assert task["createCallingTask"] == {"callingTask": {"ticketId": ticket}, "errors": []}
    meeting = await propose(api, contact, at(48), ticketId=ticket)
    assert meeting["errors"] == []

    shown = await api.graphql(LINKED, {"id": ticket})
    assert shown["ticket"] == {
        "callingTasks": [{"subject": "Call about the site", "ticketId": ticket}],
        "meetings": [{"title": "Discovery call", "ticketId": ticket}],
    }
    refused = await sales.graphql(
        "mutation($input: CreateCallingTaskInput!) { createCallingTask(input: $input) "
        "{ errors { field code } } }",
        {"input": {"subject": "Sneak", "contactId": contact, "ticketId": ticket}},
    )
    assert refused["createCallingTask"]["errors"] == [{"field": "ticketId", "code": "NOT_FOUND"}]


BY_PRIORITY = """
query($after: String, $direction: OrderDirection!) {
  tickets(first: 3, after: $after, orderBy: {field: PRIORITY, direction: $direction}) {
    edges { cursor node { id subject priority } }
    pageInfo { hasNextPage endCursor }
  }
}"""
RANK = {"LOW": 0, "NORMAL": 1, "HIGH": 2, "URGENT": 3}


async def every_page(api: Api, direction: str) -> list[dict[str, Any]]:
    """All the tickets, three at a time, by priority."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = await api.graphql(BY_PRIORITY, {"after": after, "direction": direction})
        edges = page["tickets"]["edges"]
        found += [edge["node"] for edge in edges]
        if not page["tickets"]["pageInfo"]["hasNextPage"]:
            return found
        after = page["tickets"]["pageInfo"]["endCursor"]


async def test_tickets_page_by_priority_urgent_first_with_none_lost_or_repeated(api: Api) -> None:
    priorities = ["LOW", "URGENT", "NORMAL", "HIGH", "URGENT", "LOW", "NORMAL", "URGENT", "HIGH"]
    opened = [
        await open_ticket(api, subject=f"Ticket {n}", priority=priority)
        for n, priority in enumerate(priorities * 2)
    ]
    # Half of them opened at the same moment: the id breaks those ties.
    same = datetime(2026, 3, 1, 9, tzinfo=UTC)
    tied = [_uuid(t["id"]) for t in opened[::2]]
    await tickets.Ticket.filter(id__in=tied).update(created_at=same)
    # A changed priority moves the ticket in the order.
    moved = opened[0]
    changed = await api.graphql(
        "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { errors { code } } }",
        {"input": {"id": moved["id"], "priority": "URGENT"}},
    )
    assert changed["updateTicket"]["errors"] == []

    rows = {t.id: t for t in await tickets.Ticket.filter(id__in=[_uuid(t["id"]) for t in opened])}
    expected = sorted(rows.values(), key=lambda t: (t.priority_rank, t.created_at, t.id))
    assert [t.priority_rank for t in expected] == sorted(
        RANK[p] for p in [*priorities[1:], "URGENT", *priorities]
    )
    urgent_first = await every_page(api, "DESC")
    assert [_uuid(t["id"]) for t in urgent_first] == [t.id for t in reversed(expected)]
    assert [t["priority"] for t in urgent_first][:7] == ["URGENT"] * 7
    assert urgent_first[-1]["priority"] == "LOW"
    low_first = await every_page(api, "ASC")
    assert [_uuid(t["id"]) for t in low_first] == [t.id for t in expected]

    # A cursor of another ordering is refused, not misread.
    newest = await api.graphql("{ tickets(first: 1) { pageInfo { endCursor } } }")
    refused = await api.post(
        {
            "query": BY_PRIORITY,
            "variables": {
                "after": newest["tickets"]["pageInfo"]["endCursor"],
                "direction": "DESC",
            },
        }
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


READ_ONE = "query($id: ID!) { ticket(id: $id) { subject } node(id: $id) { id } }"


async def test_a_sales_person_reads_but_does_not_work_the_tickets_of_the_customers_they_own(
    api: Api,
) -> None:
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    other_rep, other_id = await colleague(api, Role.SALES_PERSON)
    owner = {"ownerId": str(relay.GlobalID("User", str(rep_id)))}
    theirs = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Rep's Co", **owner}
    )
    others = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Someone Else's Co"}
    )
    mine = await open_ticket(api, subject="Invoice is wrong", customerId=theirs)
    not_mine = await open_ticket(api, subject="Printer jammed", customerId=others)
    queue = await open_ticket(api, subject="No customer named")
    assert mine["assignee"] is None  # in the queue: nobody handed it to the rep

    seen = (await rep.graphql(LIST))["tickets"]["edges"]
    assert [e["node"]["subject"] for e in seen] == ["Invoice is wrong"]
    one = await rep.graphql(READ_ONE, {"id": mine["id"]})
    assert (one["ticket"]["subject"], one["node"]["id"]) == ("Invoice is wrong", mine["id"])
    for hidden in (not_mine, queue):
        assert await rep.graphql(READ_ONE, {"id": hidden["id"]}) == {"ticket": None, "node": None}
    # The customer's timeline shows the rep its ticket.
    timeline = (await rep.graphql(TIMELINE, {"id": theirs}))["timeline"]["edges"]
    assert {"kind": "TICKET", "ticket": {"subject": "Invoice is wrong"}} in [
        e["node"] for e in timeline
    ]
    # Reading is all: the rep may not work it (FORBIDDEN, not NOT_FOUND: they see it).
    assert (await send(rep, mine["id"], "START"))["errors"][0]["code"] == "FORBIDDEN"
    update = await rep.graphql(
        "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { errors { code } } }",
        {"input": {"id": mine["id"], "priority": "URGENT"}},
    )
    assert update["updateTicket"]["errors"] == [{"code": "FORBIDDEN"}]
    reply = (await rep.graphql(REPLY, {"id": mine["id"], "body": "On it"}))["replyToTicket"]
    assert reply["errors"][0]["code"] == "FORBIDDEN"
    note = (await rep.graphql(NOTE, {"id": mine["id"], "body": "Hm"}))["addNote"]
    assert note["errors"][0]["code"] == "FORBIDDEN"
    # Another sales person, and another agency, see nothing of it.
    assert (await other_rep.graphql(LIST))["tickets"]["edges"] == []
    assert await other_rep.graphql(READ_ONE, {"id": mine["id"]}) == {"ticket": None, "node": None}
    bolt = await other_agency_admin(api)
    assert await bolt.graphql(READ_ONE, {"id": mine["id"]}) == {"ticket": None, "node": None}
    assert (await bolt.graphql(LIST))["tickets"]["edges"] == []
    # Handed to another owner, the customer's tickets go with it.
    handed = await api.graphql(
        "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { "
        "errors { code } } }",
        {"input": {"id": theirs, "ownerId": str(relay.GlobalID("User", str(other_id)))}},
    )
    assert handed["updateCustomer"]["errors"] == []
    assert (await rep.graphql(LIST))["tickets"]["edges"] == []
    now_theirs = (await other_rep.graphql(LIST))["tickets"]["edges"]
    assert [e["node"]["subject"] for e in now_theirs] == ["Invoice is wrong"]
    assert await rep.graphql(READ_ONE, {"id": mine["id"]}) == {"ticket": None, "node": None}
