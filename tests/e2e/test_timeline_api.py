"""The timeline (360 view) over GraphQL: every kind of entry, newest first, stable pages,
and only for those who may read the record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from strawberry import relay

from db.customers import Customer
from db.notes import Note
from domain.actors import Actor
from domain.message_rendering import TemplateParts
from domain.messages import MessageRequest, deliver_message, queue_message
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api
from tests.fixtures.messaging import TEST_LINKS
from tests.fixtures.smtp import SmtpServer

ENTRY = """
kind at
... on NoteEntry { note { body } }
... on DocumentEntry { document { fileName } }
... on CallingTaskEntry { callingTask { subject status } }
... on StatusChangeEntry { subjectId event fromStatus toStatus }
... on EmailEntry { subject recipients message { status kind source } }
"""
CUSTOMER_TIMELINE = f"""
query($id: ID!, $first: Int!, $after: String) {{
  customer(id: $id) {{
    timeline(first: $first, after: $after) {{
      edges {{ cursor node {{ {ENTRY} }} }}
      pageInfo {{ hasNextPage hasPreviousPage endCursor }}
    }}
  }}
}}"""
ROOT_TIMELINE = f"""
query($id: ID!, $first: Int!, $after: String) {{
  timeline(recordId: $id, first: $first, after: $after) {{
    edges {{ node {{ {ENTRY} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""


async def note(api: Api, record_id: str, body: str) -> None:
    await api.created("AddNoteInput", "addNote", "note", {"recordId": record_id, "body": body})


async def page(api: Api, record_id: str, first: int, after: str | None = None) -> dict[str, Any]:
    data = await api.graphql(CUSTOMER_TIMELINE, {"id": record_id, "first": first, "after": after})
    timeline: dict[str, Any] = data["customer"]["timeline"]
    return timeline


async def test_the_timeline_has_every_kind_of_entry_newest_first(
    api: Api, smtp_server: SmtpServer
) -> None:
    customer_id = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Umbrella"}
    )
    await note(api, customer_id, "First contact at the fair.")
    task_id = await api.created(
        "CreateCallingTaskInput",
        "createCallingTask",
        "callingTask",
        {"subject": "Discovery call", "customerId": customer_id},
    )
    done = await api.graphql(
        "mutation($id: ID!) { transitionCallingTask(input: {id: $id, event: COMPLETE, "
        'outcomeNotes: "Interested"}) { errors { code message } } }',
        {"id": task_id},
    )
    assert done["transitionCallingTask"]["errors"] == []
    uploaded = await api.client.post(
        f"/documents?recordId={customer_id}&fileName=offer.pdf",
        content=b"%PDF-1.7",
        headers=api.headers(**{"content-type": "application/pdf"}),
    )
    assert uploaded.status_code == 201, uploaded.text
    submitted = await api.graphql(
        "mutation($id: ID!) { transitionCustomer(input: {id: $id, event: SUBMIT}) "
        "{ errors { code } } }",
        {"id": customer_id},
    )
    assert submitted["transitionCustomer"]["errors"] == []
    # A message to this customer, as a flow step or a person sends it: queued, then sent.
    customer_uuid = relay.GlobalID.from_id(customer_id).node_id
    customer_row = await Customer.get(id=customer_uuid)
    queued_message, _ = await queue_message(
        Actor.system(customer_row.agency_id, "test"),
        MessageRequest(
            record_type="customer",
            record_id=customer_uuid,
            idempotency_key="timeline-test",
            source="flow:onboarding",
            text=TemplateParts("Welcome aboard", "Hello!"),
            recipients=["buyer@example.com"],
        ),
    )
    await deliver_message(smtp_server.config(), TEST_LINKS, queued_message.id)
    await note(api, customer_id, "Signed.")

    entries = [edge["node"] for edge in (await page(api, customer_id, 20))["edges"]]
    assert [e["kind"] for e in entries] == [
        "NOTE",
        "EMAIL",
        "STATUS_CHANGE",
        "DOCUMENT",
        "STATUS_CHANGE",
        "CALLING_TASK",
        "NOTE",
    ]
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    assert entries[0]["note"] == {"body": "Signed."}
    assert entries[1] == {
        "kind": "EMAIL",
        "at": entries[1]["at"],
        "subject": "Welcome aboard",
        "recipients": ["buyer@example.com"],
        "message": {"status": "SENT", "kind": "SALES", "source": "flow:onboarding"},
    }
    assert entries[2]["subjectId"] == customer_id
    assert (entries[2]["event"], entries[2]["fromStatus"], entries[2]["toStatus"]) == (
        "submit",
        "draft",
        "new",
    )
    assert entries[3]["document"] == {"fileName": "offer.pdf"}
    assert entries[4]["subjectId"] == task_id
    assert (entries[4]["event"], entries[4]["toStatus"]) == ("complete", "done")
    assert entries[5]["callingTask"] == {"subject": "Discovery call", "status": "DONE"}
    assert entries[6]["note"] == {"body": "First contact at the fair."}


async def test_pages_neither_skip_nor_repeat_while_entries_are_added(api: Api) -> None:
    customer_id = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Soylent"}
    )
    for number in range(7):
        await note(api, customer_id, f"note {number}")
    seen: list[str] = []
    first = await page(api, customer_id, 3)
    assert first["pageInfo"]["hasPreviousPage"] is False
    seen += [edge["node"]["note"]["body"] for edge in first["edges"]]
    after = first["pageInfo"]["endCursor"]
    newer = 0
    while True:
        newer += 1
        await note(api, customer_id, f"newer {newer}")  # lands before the cursor: unseen
        current = await page(api, customer_id, 3, after)
        seen += [edge["node"]["note"]["body"] for edge in current["edges"]]
        if not current["pageInfo"]["hasNextPage"]:
            break
        after = current["pageInfo"]["endCursor"]
    assert seen == [f"note {n}" for n in reversed(range(7))]

    everything = await page(api, customer_id, 100)
    assert len(everything["edges"]) == 7 + newer
    assert newer == 2  # pages of 3, 3 and 1 after the first
    assert everything["pageInfo"]["hasNextPage"] is False
    bad = await api.post(
        {
            "query": CUSTOMER_TIMELINE,
            "variables": {"id": customer_id, "first": 3, "after": "not-a-cursor"},
        }
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    too_many = await api.post(
        {"query": CUSTOMER_TIMELINE, "variables": {"id": customer_id, "first": 101}}
    )
    assert too_many.json()["errors"][0]["extensions"]["code"] == "INVALID_PAGE_SIZE"


async def test_entries_at_the_same_instant_keep_a_stable_order(api: Api) -> None:
    """Ties on the time are broken by kind and id, the same way in SQL and in the merge."""
    customer_id = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Tyrell"}
    )
    for number in range(5):
        await note(api, customer_id, f"tied {number}")
    instant = datetime(2030, 1, 1, tzinfo=UTC)
    await Note.all().update(created_at=instant)
    one_by_one: list[str] = []
    after = None
    for _ in range(5):
        current = await page(api, customer_id, 1, after)
        one_by_one += [edge["node"]["note"]["body"] for edge in current["edges"]]
        after = current["pageInfo"]["endCursor"]
    assert sorted(one_by_one) == [f"tied {n}" for n in range(5)]
    all_at_once = [e["node"]["note"]["body"] for e in (await page(api, customer_id, 5))["edges"]]
    assert one_by_one == all_at_once


async def test_a_timeline_is_seen_only_by_those_who_may_read_the_record(api: Api) -> None:
    owner, owner_id = await colleague(api, Role.SALES_PERSON)
    stranger, _ = await colleague(api, Role.SALES_PERSON)
    contact_id = await owner.created(
        "CreateContactInput", "createContact", "contact", {"firstName": "Rick"}
    )
    await note(owner, contact_id, "Private to the owner's scope.")
    # A call about the contact assigned to someone else: hidden from the owner's timeline.
    await api.created(
        "CreateCallingTaskInput",
        "createCallingTask",
        "callingTask",
        {"subject": "Admin's own call", "contactId": contact_id},
    )
    mine = await owner.graphql(ROOT_TIMELINE, {"id": contact_id, "first": 10})
    assert [e["node"]["kind"] for e in mine["timeline"]["edges"]] == ["NOTE"]
    admin_view = await api.graphql(ROOT_TIMELINE, {"id": contact_id, "first": 10})
    assert [e["node"]["kind"] for e in admin_view["timeline"]["edges"]] == [
        "CALLING_TASK",
        "NOTE",
    ]
    nested = await owner.graphql(
        "query($id: ID!) { contact(id: $id) { timeline { edges { node { kind } } } } }",
        {"id": contact_id},
    )
    assert nested["contact"]["timeline"]["edges"] == [{"node": {"kind": "NOTE"}}]

    assert (await stranger.graphql(ROOT_TIMELINE, {"id": contact_id, "first": 10})) == {
        "timeline": None
    }
    outsider = await other_agency_admin(api)
    assert (await outsider.graphql(ROOT_TIMELINE, {"id": contact_id, "first": 10})) == {
        "timeline": None
    }
    not_a_record = str(relay.GlobalID("User", str(owner_id)))
    assert (await owner.graphql(ROOT_TIMELINE, {"id": not_a_record, "first": 10})) == {
        "timeline": None
    }


async def upload(api: Api, record_id: str, file_name: str) -> None:
    uploaded = await api.client.post(
        f"/documents?recordId={record_id}&fileName={file_name}",
        content=b"%PDF-1.7",
        headers=api.headers(**{"content-type": "application/pdf"}),
    )
    assert uploaded.status_code == 201, uploaded.text


async def new_lead(api: Api) -> str:
    return await api.created("CreateLeadInput", "createLead", "lead", {"title": "Rebrand"})


async def new_deal(api: Api) -> str:
    return await api.created(
        "CreateDealInput",
        "createDeal",
        "deal",
        {"name": "Relaunch", "expectedCloseDate": "2030-06-30"},
    )


async def test_a_leads_timeline_has_its_notes_documents_and_status_changes(api: Api) -> None:
    lead_id = await new_lead(api)
    await note(api, lead_id, "Asked for a rebrand.")
    await upload(api, lead_id, "brief.pdf")
    dropped = await api.graphql(
        "mutation($id: ID!) { transitionLead(input: {id: $id, event: DISQUALIFY}) "
        "{ errors { code } } }",
        {"id": lead_id},
    )
    assert dropped["transitionLead"]["errors"] == []
    await note(api, lead_id, "No budget this year.")

    nested = await api.graphql(
        f"query($id: ID!) {{ lead(id: $id) {{ timeline {{ edges {{ node {{ {ENTRY} }} }} }} }} }}",
        {"id": lead_id},
    )
    entries = [edge["node"] for edge in nested["lead"]["timeline"]["edges"]]
    assert [e["kind"] for e in entries] == ["NOTE", "STATUS_CHANGE", "DOCUMENT", "NOTE"]
    assert entries[0]["note"] == {"body": "No budget this year."}
    assert (entries[1]["subjectId"], entries[1]["event"]) == (lead_id, "disqualify")
    assert (entries[1]["fromStatus"], entries[1]["toStatus"]) == ("new", "disqualified")
    assert entries[2]["document"] == {"fileName": "brief.pdf"}
    assert entries[3]["note"] == {"body": "Asked for a rebrand."}
    root = await api.graphql(ROOT_TIMELINE, {"id": lead_id, "first": 10})
    assert [edge["node"] for edge in root["timeline"]["edges"]] == entries


async def test_a_deals_timeline_has_its_notes_documents_and_stage_moves(api: Api) -> None:
    deal_id = await new_deal(api)
    await note(api, deal_id, "Kick-off booked.")
    await upload(api, deal_id, "contract.pdf")
    pipeline = (await api.graphql("{ pipelines { stages { id name } } }"))["pipelines"][0]
    won = next(s["id"] for s in pipeline["stages"] if s["name"] == "Closed Won")
    moved = await api.graphql(
        "mutation($id: ID!, $stage: ID!) { moveDeal(input: {id: $id, stageId: $stage}) "
        "{ errors { code } } }",
        {"id": deal_id, "stage": won},
    )
    assert moved["moveDeal"]["errors"] == []

    nested = await api.graphql(
        f"query($id: ID!) {{ deal(id: $id) {{ timeline {{ edges {{ node {{ {ENTRY} }} }} }} }} }}",
        {"id": deal_id},
    )
    everything = [edge["node"] for edge in nested["deal"]["timeline"]["edges"]]
    # The stages' activities (two on entry to Prospecting, one on winning) are its calls.
    calls = [e for e in everything if e["kind"] == "CALLING_TASK"]
    assert len(calls) == 3
    entries = [e for e in everything if e["kind"] != "CALLING_TASK"]
    assert [e["kind"] for e in entries] == ["STATUS_CHANGE", "DOCUMENT", "NOTE"]
    assert (entries[0]["subjectId"], entries[0]["event"]) == (deal_id, "win")
    assert (entries[0]["fromStatus"], entries[0]["toStatus"]) == ("open", "won")
    assert entries[1]["document"] == {"fileName": "contract.pdf"}
    assert entries[2]["note"] == {"body": "Kick-off booked."}
    root = await api.graphql(ROOT_TIMELINE, {"id": deal_id, "first": 10})
    assert [edge["node"] for edge in root["timeline"]["edges"]] == everything


async def test_a_lead_or_deal_timeline_follows_the_records_row_scope(api: Api) -> None:
    owner, _ = await colleague(api, Role.SALES_PERSON)
    stranger, _ = await colleague(api, Role.SALES_PERSON)
    outsider = await other_agency_admin(api)
    for record_id, field in ((await new_lead(owner), "lead"), (await new_deal(owner), "deal")):
        await note(owner, record_id, "Owner's eyes only.")
        mine = await owner.graphql(ROOT_TIMELINE, {"id": record_id, "first": 10})
        kinds = [e["node"]["kind"] for e in mine["timeline"]["edges"]]
        # (a deal has its first stage's activities as calls too)
        assert [kind for kind in kinds if kind != "CALLING_TASK"] == ["NOTE"]
        for other in (stranger, outsider):
            assert (await other.graphql(ROOT_TIMELINE, {"id": record_id, "first": 10})) == {
                "timeline": None
            }
            nested = await other.graphql(
                f"query($id: ID!) {{ {field}(id: $id) {{ timeline {{ edges {{ cursor }} }} }} }}",
                {"id": record_id},
            )
            assert nested == {field: None}
