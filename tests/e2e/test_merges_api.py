"""Merging contacts and customers over GraphQL: every kind of related row moves to the
survivor, the merge is audited and announced, and its undo puts every row back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from strawberry import relay
from tortoise.models import Model

from db.audit import AuditEntry
from db.contacts import Contact
from db.customers import Customer
from db.documents import Document
from db.duplicates import RecordMerge
from db.events import Event
from db.flow_runs import FlowRun
from db.messages import Message
from db.users import User
from domain import (
    calling_tasks,
    contacts,
    custom_fields,
    customers,
    deals,
    leads,
    meetings,
    notes,
    tags,
    tickets,
    users,
)
from domain.actors import Actor
from domain.merges import record_links
from domain.roles import Role
from tests.e2e.conftest import ADMIN_EMAIL, Api

MERGE_CONTACTS = """
mutation($input: MergeRecordsInput!) {
  mergeContacts(input: $input) {
    merge { id survivorId mergedIds movedRows undoUntil undoneAt } errors { field code }
  }
}"""
MERGE_CUSTOMERS = MERGE_CONTACTS.replace("mergeContacts", "mergeCustomers")
UNDO = """
mutation($id: ID!) {
  undoMerge(input: {id: $id}) { merge { id undoneAt } errors { field code } }
}"""
CONTACT = "query($id: ID!) { contact(id: $id) { firstName lastName emails phones jobTitle tags } }"


def gid(type_name: str, value: object) -> str:
    return str(relay.GlobalID(type_name, str(value)))


async def _system() -> tuple[Actor, User]:
    admin = await User.get(email=ADMIN_EMAIL)
    return Actor.system(admin.agency_id, "test"), admin


async def _contact_with_everything(actor: Actor, owner: User, name: str, tag: str) -> Contact:
    """A contact with a row of every kind that hangs off a contact."""
    contact = await contacts.create_contact(
        actor,
        {
            "first_name": name,
            "last_name": "Lovelace",
            "emails": [f"{name.lower()}@example.com"],
            "tags": ["shared", tag],
            "owner_id": owner.id,
            "custom_fields": [{"key": "budget", "number": len(name)}],
        },
    )
    await notes.add_note(actor, "contact", contact.id, f"Note on {name}")
    await Document.create(
        agency_id=actor.agency_id,
        record_type="contact",
        record_id=contact.id,
        file_name="card.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
        storage_key=f"test/{uuid.uuid4()}",
        uploaded_by="test",
    )
    await calling_tasks.create_calling_task(
        actor, {"subject": "Call", "contact_id": contact.id, "assignee_id": owner.id}
    )
    await leads.create_lead(
        actor, {"title": f"Lead {name}", "contact_id": contact.id, "owner_id": owner.id}
    )
    await deals.create_deal(
        actor,
        {
            "name": f"Deal {name}",
            "contact_id": contact.id,
            "expected_close_date": "2030-01-01",
            "owner_id": owner.id,
        },
    )
    await meetings.propose_meeting(
        actor,
        {
            "contact_id": contact.id,
            "owner_id": owner.id,
            "title": "Meet",
            "slots": [datetime(2090, 1, 1, tzinfo=UTC) + timedelta(hours=len(name))],
            "duration_minutes": 30,
        },
    )
    await tickets.create_ticket(
        actor, {"subject": "Broken", "contact_id": contact.id, "assignee_id": owner.id}
    )
    await FlowRun.create(
        agency_id=actor.agency_id,
        workflow_id=f"nurture:contact:{contact.id}",
        flow_key="nurture",
        version=1,
        record_type="contact",
        record_id=str(contact.id),
        status="completed",
    )
    await Message.create(
        agency_id=actor.agency_id,
        record_type="contact",
        record_id=str(contact.id),
        kind="one_off",
        subject="Hello",
        text_body="Hello",
        status="sent",
        idempotency_key=f"test:{contact.id}",
        created_by="test",
    )
    return contact


async def _rows_naming(aggregate: str, record_ids: list[uuid.UUID]) -> dict[str, set[Any]]:
    """For every link column, the primary keys of the rows naming each record."""
    found: dict[str, set[Any]] = {}
    for link in record_links(aggregate):
        model: type[Model] = link.model
        for record_id in record_ids:
            query = model.filter(**{link.column: link.value(record_id)})
            if link.type_column:
                query = query.filter(**{link.type_column: aggregate})
            keys = set(await query.values_list(str(model._meta.pk_attr), flat=True))
            if keys:
                found[f"{link.table}.{link.column}@{record_id}"] = keys
    return found


async def test_merging_contacts_moves_every_related_row_and_undo_puts_them_back(
    api: Api,
) -> None:
    actor, admin = await _system()
    await custom_fields.define_custom_field(
        actor, {"record_type": "contact", "key": "budget", "label": "Budget", "type": "number"}
    )
    survivor = await _contact_with_everything(actor, admin, "Ada", "vip")
    merged = await _contact_with_everything(actor, admin, "Augusta", "math")
    customer = await customers.create_customer(actor, {"name": "Engines", "owner_id": admin.id})
    await customers.link_contact(actor, customer.id, merged.id, "cto", False)
    await contacts.update_contact(actor, survivor.id, {"job_title": ""})
    await contacts.update_contact(actor, merged.id, {"job_title": "Countess"})
    before = await _rows_naming("contact", [survivor.id, merged.id])
    kinds = {key.split("@")[0] for key in before}
    assert kinds >= {
        "note.record_id",
        "document.record_id",
        "calling_task.contact_id",
        "lead.contact_id",
        "deal.contact_id",
        "meeting.contact_id",
        "ticket.contact_id",
        "record_tag.record_id",
        "custom_field_value.record_id",
        "flow_run.record_id",
        "message.record_id",
        "customer_contact.contact_id",
    }, kinds

    data = await api.graphql(
        MERGE_CONTACTS,
        {
            "input": {
                "survivorId": gid("Contact", survivor.id),
                "mergedIds": [gid("Contact", merged.id)],
                "values": [{"field": "firstName", "recordId": gid("Contact", merged.id)}],
            }
        },
    )
    payload = data["mergeContacts"]
    assert payload["errors"] == []
    merge = payload["merge"]
    assert merge["mergedIds"] == [gid("Contact", merged.id)]
    assert merge["undoneAt"] is None

    after = await _rows_naming("contact", [survivor.id, merged.id])
    left_on_merged = {k: v for k, v in after.items() if k.endswith(f"@{merged.id}")}
    # Only what would clash with the survivor's own rows stays: the shared tag and the
    # custom value the survivor has (its value wins).
    assert set(left_on_merged) == {
        f"record_tag.record_id@{merged.id}",
        f"custom_field_value.record_id@{merged.id}",
    }, left_on_merged
    for key, rows in before.items():
        if key.endswith(f"@{merged.id}"):
            moved = rows - left_on_merged.get(key, set())
            assert moved <= after[key.replace(str(merged.id), str(survivor.id))], key
    assert merge["movedRows"] == sum(len(v) for k, v in before.items() if str(merged.id) in k) - 2

    shown = (await api.graphql(CONTACT, {"id": gid("Contact", survivor.id)}))["contact"]
    assert shown["firstName"] == "Augusta"  # chosen
    assert shown["jobTitle"] == "Countess"  # the survivor's was empty
    assert shown["emails"] == ["ada@example.com", "augusta@example.com"]  # joined
    assert shown["tags"] == ["shared", "vip", "math"]
    gone = await api.graphql(CONTACT, {"id": gid("Contact", merged.id)})
    assert gone["contact"] is None
    event = await Event.get(type="contact.merged", aggregate_id=str(survivor.id))
    assert event.payload["merged_ids"] == [str(merged.id)]
    audited = {entry.entity_id for entry in await AuditEntry.filter(action="merge")}
    assert audited == {str(survivor.id), str(merged.id)}

    undone = await api.graphql(UNDO, {"id": merge["id"]})
    assert undone["undoMerge"]["errors"] == []
    assert undone["undoMerge"]["merge"]["undoneAt"] is not None
    assert await _rows_naming("contact", [survivor.id, merged.id]) == before
    restored = (await api.graphql(CONTACT, {"id": gid("Contact", survivor.id)}))["contact"]
    assert restored["firstName"] == "Ada"
    assert restored["emails"] == ["ada@example.com"]
    assert restored["tags"] == ["shared", "vip"]
    back = (await api.graphql(CONTACT, {"id": gid("Contact", merged.id)}))["contact"]
    assert back["firstName"] == "Augusta"
    assert await Event.filter(type="contact.merge_undone").count() == 1

    again = await api.graphql(UNDO, {"id": merge["id"]})
    assert again["undoMerge"]["errors"] == [{"field": "id", "code": "ALREADY_UNDONE"}]


async def test_merging_customers_moves_links_and_children(api: Api) -> None:
    actor, admin = await _system()
    owned = {"owner_id": admin.id}
    survivor = await customers.create_customer(actor, {"name": "Acme Ltd", **owned})
    merged = await customers.create_customer(
        actor, {"name": "ACME", "website": "https://acme.example", **owned}
    )
    child = await customers.create_customer(actor, {"name": "Acme North", **owned})
    await customers.update_customer(actor, child.id, {"parent_id": merged.id})
    person = await contacts.create_contact(actor, {"first_name": "Ada", **owned})
    await customers.link_contact(actor, merged.id, person.id, "cto", True)
    deal = await deals.create_deal(
        actor,
        {"name": "D", "customer_id": merged.id, "expected_close_date": "2030-01-01", **owned},
    )
    await tags.create_tag(actor, {"name": "key account"})
    await customers.update_customer(actor, merged.id, {"tags": ["key account"]})

    data = await api.graphql(
        MERGE_CUSTOMERS,
        {
            "input": {
                "survivorId": gid("Customer", survivor.id),
                "mergedIds": [gid("Customer", merged.id)],
            }
        },
    )
    assert data["mergeCustomers"]["errors"] == []
    assert (await Customer.get(id=child.id)).parent_id == survivor.id
    assert (await deals.get_deal(actor, deal.id)).customer_id == survivor.id
    kept = await Customer.get(id=survivor.id)
    assert kept.website == "https://acme.example"
    assert kept.tags == ["key account"]
    assert (await Customer.get(id=merged.id)).deleted_at is not None

    merge = await RecordMerge.get(survivor_id=survivor.id)
    await RecordMerge.filter(id=merge.id).update(undo_until=datetime.now(UTC) - timedelta(1))
    late = await api.graphql(UNDO, {"id": data["mergeCustomers"]["merge"]["id"]})
    assert late["undoMerge"]["errors"] == [{"field": "id", "code": "UNDO_EXPIRED"}]


async def test_bad_merges_are_refused_with_typed_errors(api: Api) -> None:
    actor, _ = await _system()
    ids = [
        gid("Contact", (await contacts.create_contact(actor, {"first_name": f"P{i}"})).id)
        for i in range(10)
    ]
    stranger = gid("Contact", uuid.uuid4())

    async def errors(survivor: str, merged: list[str], **extra: Any) -> list[dict[str, Any]]:
        variables = {"input": {"survivorId": survivor, "mergedIds": merged, **extra}}
        result: list[dict[str, Any]] = (await api.graphql(MERGE_CONTACTS, variables))[
            "mergeContacts"
        ]["errors"]
        return result

    assert await errors(ids[0], [ids[1], ids[1]]) == [
        {"field": "mergedIds", "code": "SAME_RECORD_TWICE"}
    ]
    assert await errors(ids[0], [ids[0]]) == [{"field": "mergedIds", "code": "SAME_RECORD_TWICE"}]
    assert await errors(ids[0], []) == [{"field": "mergedIds", "code": "TOO_FEW"}]
    assert await errors(ids[0], ids[1:]) == [{"field": "mergedIds", "code": "TOO_MANY"}]
    assert await errors(ids[0], [stranger]) == [{"field": "id", "code": "NOT_FOUND"}]
    assert await errors(ids[0], [ids[1]], values=[{"field": "status", "recordId": ids[1]}]) == [
        {"field": "values.status", "code": "INVALID"}
    ]
    assert await errors(ids[0], [ids[1]], values=[{"field": "notes", "recordId": ids[2]}]) == [
        {"field": "values.notes", "code": "INVALID"}
    ]
    assert await Contact.filter(deleted_at__isnull=False).count() == 0


CUSTOM = "query($id: ID!) { contact(id: $id) { customFields { key text number } } }"


async def _custom(api: Api, contact_id: uuid.UUID) -> dict[str, Any]:
    shown = (await api.graphql(CUSTOM, {"id": gid("Contact", contact_id)}))["contact"]
    return {f["key"]: f["text"] or f["number"] for f in shown["customFields"]}


async def test_a_merge_chooses_custom_field_values_and_undo_swaps_them_back(api: Api) -> None:
    actor, admin = await _system()
    for key, kind in (("budget", "number"), ("region", "text"), ("tier", "text")):
        await custom_fields.define_custom_field(
            actor, {"record_type": "contact", "key": key, "label": key, "type": kind}
        )
    survivor = await contacts.create_contact(
        actor,
        {
            "first_name": "Ada",
            "owner_id": admin.id,
            "custom_fields": [{"key": "budget", "number": 1}, {"key": "tier", "text": "gold"}],
        },
    )
    merged = await contacts.create_contact(
        actor,
        {
            "first_name": "Augusta",
            "owner_id": admin.id,
            "custom_fields": [
                {"key": "budget", "number": 2},
                {"key": "region", "text": "north"},
                {"key": "tier", "text": "silver"},
            ],
        },
    )
    unknown = await api.graphql(
        MERGE_CONTACTS,
        {
            "input": {
                "survivorId": gid("Contact", survivor.id),
                "mergedIds": [gid("Contact", merged.id)],
                "values": [{"field": "custom:nope", "recordId": gid("Contact", merged.id)}],
            }
        },
    )
    assert [e["code"] for e in unknown["mergeContacts"]["errors"]] == ["INVALID"]

    data = await api.graphql(
        MERGE_CONTACTS,
        {
            "input": {
                "survivorId": gid("Contact", survivor.id),
                "mergedIds": [gid("Contact", merged.id)],
                "values": [{"field": "custom:budget", "recordId": gid("Contact", merged.id)}],
            }
        },
    )
    merge = data["mergeContacts"]["merge"]
    assert data["mergeContacts"]["errors"] == []
    # budget chosen from Augusta; region was empty on Ada, so it moves; tier is Ada's (not chosen).
    assert await _custom(api, survivor.id) == {"budget": 2, "region": "north", "tier": "gold"}
    audited = await AuditEntry.get(action="merge", entity_id=str(survivor.id))
    assert audited.after["custom:budget"] == str(merged.id)

    undone = await api.graphql(UNDO, {"id": merge["id"]})
    assert undone["undoMerge"]["errors"] == []
    assert await _custom(api, survivor.id) == {"budget": 1, "region": None, "tier": "gold"}
    assert await _custom(api, merged.id) == {"budget": 2, "region": "north", "tier": "silver"}


CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) {
    contact { id } duplicates { recordId displayName score reasons } errors { code }
  }
}"""
DUPLICATES_OF = """
query($id: ID!) { duplicatesOf(id: $id) { recordId displayName score reasons } }
"""


async def test_create_warns_of_duplicates_and_duplicates_of_lists_them(api: Api) -> None:
    first = await api.created(
        "CreateContactInput",
        "createContact",
        "contact",
        {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "companyName": "Analytical Engines Ltd",
            "emails": ["ada@example.com"],
        },
    )
    created = (
        await api.graphql(
            CREATE_CONTACT,
            {
                "input": {
                    "firstName": "Lovelace",
                    "lastName": "Ada",
                    "companyName": "Analytical Engines",
                    "emails": ["ADA@example.com"],
                    "phones": ["+44 20 7946 0958"],
                }
            },
        )
    )["createContact"]
    assert created["errors"] == []  # a warning, not a refusal
    assert created["duplicates"] == [
        {
            "recordId": first,
            "displayName": "Ada Lovelace",
            "score": 100,
            "reasons": ["EMAIL", "NAME", "COMPANY"],
        }
    ]
    second = created["contact"]["id"]
    phone_only = (
        await api.graphql(
            CREATE_CONTACT, {"input": {"firstName": "Someone", "phones": ["+442079460958"]}}
        )
    )["createContact"]
    assert [(d["recordId"], d["reasons"]) for d in phone_only["duplicates"]] == [
        (second, ["PHONE"])
    ]
    listed = (await api.graphql(DUPLICATES_OF, {"id": first}))["duplicatesOf"]
    assert [d["recordId"] for d in listed] == [second]
    hidden = await api.graphql(DUPLICATES_OF, {"id": gid("Contact", uuid.uuid4())})
    assert hidden["duplicatesOf"] is None

    # A sales person's warning names only contacts they may read (their own).
    actor, _ = await _system()
    await users.create_user(
        actor,
        {
            "email": "sam@acme.example.com",
            "name": "Sam",
            "password": "long enough password",
            "roles": [Role.SALES_PERSON],
        },
    )
    sam = await api.sign_in("sam@acme.example.com", "long enough password")
    theirs = (
        await sam.graphql(
            CREATE_CONTACT, {"input": {"firstName": "Ada", "emails": ["ada@example.com"]}}
        )
    )["createContact"]
    assert theirs["errors"] == []
    assert theirs["duplicates"] == []
