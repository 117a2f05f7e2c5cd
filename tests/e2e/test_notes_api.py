"""Notes over GraphQL: add, update, delete, under the row scope of the record they are on."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from db.audit import AuditEntry
from db.events import Event
from db.notes import Note
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api

ADD = """
mutation($input: AddNoteInput!) {
  addNote(input: $input) {
    note { id body recordId author { name } createdAt updatedAt }
    errors { field code message }
  }
}"""
UPDATE = """
mutation($input: UpdateNoteInput!) {
  updateNote(input: $input) { note { id body } errors { field code message } }
}"""
DELETE = """
mutation($input: DeleteNoteInput!) {
  deleteNote(input: $input) { note { id } errors { field code message } }
}"""


async def customer_of(api: Api) -> str:
    data = await api.graphql(
        'mutation { createCustomer(input: {name: "Initech"}) { customer { id } } }'
    )
    customer_id: str = data["createCustomer"]["customer"]["id"]
    return customer_id


async def add(api: Api, record_id: str, body: str) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await api.graphql(ADD, {"input": {"recordId": record_id, "body": body}})
    )["addNote"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_a_note_is_written_changed_and_deleted_with_audit_and_events(api: Api) -> None:
    customer_id = await customer_of(api)
    added = await add(api, customer_id, "  Wants a quote by Friday.  ")
    assert added["errors"] == []
    note = added["note"]
    assert note["body"] == "Wants a quote by Friday."
    assert note["recordId"] == customer_id
    assert note["author"] == {"name": "Ada Admin"}

    changed = await api.graphql(UPDATE, {"input": {"id": note["id"], "body": "Quote sent."}})
    assert changed["updateNote"] == {
        "note": {"id": note["id"], "body": "Quote sent."},
        "errors": [],
    }
    deleted = await api.graphql(DELETE, {"input": {"id": note["id"]}})
    assert deleted["deleteNote"]["errors"] == []
    again = await api.graphql(UPDATE, {"input": {"id": note["id"], "body": "x"}})
    assert codes(again["updateNote"]) == [("id", "NOT_FOUND")]

    row = await Note.get()
    assert row.deleted_at is not None
    events = await Event.filter(aggregate_type="note").order_by("id")
    assert [e.type for e in events] == ["note.created", "note.updated", "note.deleted"]
    audit = await AuditEntry.filter(entity_type="note").order_by("id")
    assert [a.action for a in audit] == ["create", "update", "delete"]


async def test_a_note_needs_a_body_of_sensible_length_and_a_real_record(api: Api) -> None:
    customer_id = await customer_of(api)
    assert codes(await add(api, customer_id, "   ")) == [("body", "REQUIRED")]
    assert codes(await add(api, customer_id, "x" * 10_001)) == [("body", "TOO_LONG")]
    user_id = (await api.graphql("{ me { id } }"))["me"]["id"]
    assert codes(await add(api, user_id, "on a user?")) == [("recordId", "NOT_FOUND")]
    assert await Note.all().count() == 0


async def test_notes_follow_the_row_scope_of_their_record(api: Api) -> None:
    owner, _ = await colleague(api, Role.SALES_PERSON)
    stranger, _ = await colleague(api, Role.SALES_PERSON)
    support, _ = await colleague(api, Role.CUSTOMER_SUPPORT)
    sysadmin, _ = await colleague(api, Role.SYSADMIN)
    customer_id = await customer_of(owner)

    assert (await add(owner, customer_id, "Met at the fair."))["errors"] == []
    assert codes(await add(stranger, customer_id, "peek")) == [("recordId", "NOT_FOUND")]
    assert codes(await add(support, customer_id, "hi")) == [("recordId", "FORBIDDEN")]
    assert codes(await add(sysadmin, customer_id, "hi")) == [("recordId", "FORBIDDEN")]
    outsider = await other_agency_admin(api)
    assert codes(await add(outsider, customer_id, "hi")) == [("recordId", "NOT_FOUND")]
    assert await Note.all().count() == 1


async def test_leads_and_deals_take_notes_under_their_own_row_scope(api: Api) -> None:
    owner, _ = await colleague(api, Role.SALES_PERSON)
    stranger, _ = await colleague(api, Role.SALES_PERSON)
    outsider = await other_agency_admin(api)
    lead = await owner.graphql('mutation { createLead(input: {title: "Rebrand"}) { lead { id } } }')
    deal = await owner.graphql(
        'mutation { createDeal(input: {name: "Relaunch", expectedCloseDate: "2030-06-30"}) '
        "{ deal { id } } }"
    )
    for record_id in (lead["createLead"]["lead"]["id"], deal["createDeal"]["deal"]["id"]):
        added = await add(owner, record_id, "Call back in May.")
        assert added["errors"] == []
        assert added["note"]["recordId"] == record_id
        for other in (stranger, outsider):
            assert codes(await add(other, record_id, "peek")) == [("recordId", "NOT_FOUND")]
            refused = await other.graphql(
                UPDATE, {"input": {"id": added["note"]["id"], "body": "mine"}}
            )
            assert codes(refused["updateNote"]) == [("id", "NOT_FOUND")]
    rows = await Note.all().order_by("created_at")
    assert [(n.record_type, n.body) for n in rows] == [
        ("lead", "Call back in May."),
        ("deal", "Call back in May."),
    ]


async def test_only_the_author_or_an_agency_wide_editor_changes_a_note(api: Api) -> None:
    head, head_id = await colleague(api, Role.SALES_HEAD)
    customer_id = await api.graphql(
        'mutation($owner: ID!) { createCustomer(input: {name: "Hooli", ownerId: $owner}) '
        "{ customer { id } } }",
        {"owner": str(relay.GlobalID("User", str(head_id)))},
    )
    record = customer_id["createCustomer"]["customer"]["id"]
    admin_note = (await add(api, record, "Admin's note"))["note"]["id"]
    head_note = (await add(head, record, "Head's note"))["note"]["id"]

    refused = await head.graphql(UPDATE, {"input": {"id": admin_note, "body": "mine now"}})
    assert codes(refused["updateNote"]) == [("id", "FORBIDDEN")]
    refused = await head.graphql(DELETE, {"input": {"id": admin_note}})
    assert codes(refused["deleteNote"]) == [("id", "FORBIDDEN")]
    own = await head.graphql(UPDATE, {"input": {"id": head_note, "body": "Head's, edited"}})
    assert own["updateNote"]["errors"] == []
    by_admin = await api.graphql(DELETE, {"input": {"id": head_note}})
    assert by_admin["deleteNote"]["errors"] == []
    assert (await Note.get(body="Admin's note")).deleted_at is None
