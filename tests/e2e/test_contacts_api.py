"""The contact slice over GraphQL/HTTP: create, list, update, move through the lifecycle, delete."""

from __future__ import annotations

from typing import Any

from db.audit import AuditEntry
from db.contacts import Contact
from db.events import Event
from tests.e2e.conftest import Api

CONTACT_FIELDS = """
    id firstName lastName emails phones companyName jobTitle source tags notes status
    allowedEvents ownerId address { street city region postalCode country latitude longitude }
    createdAt updatedAt
"""

CREATE = f"""
mutation Create($input: CreateContactInput!) {{
  createContact(input: $input) {{ contact {{ {CONTACT_FIELDS} }} errors {{ field code message }} }}
}}"""

UPDATE = f"""
mutation Update($input: UpdateContactInput!) {{
  updateContact(input: $input) {{ contact {{ {CONTACT_FIELDS} }} errors {{ field code message }} }}
}}"""

TRANSITION = """
mutation Move($id: ID!, $event: ContactEvent!) {
  transitionContact(input: {id: $id, event: $event}) {
    contact { id status allowedEvents } errors { field code message }
  }
}"""

DELETE = """
mutation Delete($id: ID!) {
  deleteContact(input: {id: $id}) { contact { id } errors { field code message } }
}"""

GET = f"query Get($id: ID!) {{ contact(id: $id) {{ {CONTACT_FIELDS} }} }}"

LIST = """
query List($first: Int, $after: String, $filter: ContactFilter, $orderBy: ContactOrder) {
  contacts(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id firstName status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(CREATE, {"input": {"firstName": "Ada", **fields}})
    payload: dict[str, Any] = data["createContact"]
    assert payload["errors"] == []
    contact: dict[str, Any] = payload["contact"]
    return contact


async def test_create_contact_normalises_and_returns_every_field(api: Api) -> None:
    contact = await create(
        api,
        lastName="Lovelace",
        emails=["ADA@Example.COM"],
        phones=["+44 20 7946 0958"],
        companyName="Analytical Engines",
        jobTitle="Programmer",
        address={"city": "London", "country": "gb", "latitude": 51.5, "longitude": -0.12},
        source="referral",
        tags=["vip", "vip", "math"],
        notes="Met at the Royal Society.",
    )
    assert contact["emails"] == ["ADA@example.com"]
    assert contact["phones"] == ["+442079460958"]
    assert contact["tags"] == ["vip", "math"]
    assert contact["address"]["country"] == "GB"
    assert contact["address"]["latitude"] == 51.5
    assert contact["status"] == "NEW"
    assert contact["allowedEvents"] == ["MARK_HOT", "MARK_COLD", "MARK_NOT_INTERESTED"]

    fetched = (await api.graphql(GET, {"id": contact["id"]}))["contact"]
    assert fetched == contact


async def test_contact_moves_new_hot_converted_and_then_allows_nothing(api: Api) -> None:
    contact = await create(api)
    hot = await api.graphql(TRANSITION, {"id": contact["id"], "event": "MARK_HOT"})
    assert hot["transitionContact"]["contact"]["status"] == "HOT"
    converted = await api.graphql(TRANSITION, {"id": contact["id"], "event": "CONVERT"})
    assert converted["transitionContact"] == {
        "contact": {"id": contact["id"], "status": "CONVERTED", "allowedEvents": []},
        "errors": [],
    }


async def test_illegal_transition_is_a_typed_error_and_changes_nothing(api: Api) -> None:
    contact = await create(api)
    events_before = await Event.all().count()
    result = await api.graphql(TRANSITION, {"id": contact["id"], "event": "CONVERT"})
    payload = result["transitionContact"]
    assert payload["contact"] is None
    assert payload["errors"][0]["code"] == "INVALID_TRANSITION"
    assert payload["errors"][0]["field"] == "event"
    assert "MARK_HOT" in payload["errors"][0]["message"]
    assert (await api.graphql(GET, {"id": contact["id"]}))["contact"]["status"] == "NEW"
    assert await Event.all().count() == events_before


async def test_transition_writes_status_audit_row_and_event_together(api: Api) -> None:
    contact = await create(api)
    await api.graphql(TRANSITION, {"id": contact["id"], "event": "MARK_HOT"})
    stored = await Contact.get()
    audit = await AuditEntry.filter(entity_id=str(stored.id), action="transition:mark_hot").get()
    event = await Event.filter(aggregate_id=str(stored.id), type="contact.transitioned").get()
    assert stored.status == "hot"
    assert (audit.before, audit.after) == ({"status": "new"}, {"status": "hot"})
    assert event.payload == {"event": "mark_hot", "from": "new", "to": "hot"}


async def test_invalid_input_reports_every_bad_field_and_writes_nothing(api: Api) -> None:
    audit_rows = await AuditEntry.all().count()
    data = await api.graphql(
        CREATE,
        {
            "input": {
                "firstName": " ",
                "emails": ["not-an-email"],
                "phones": ["12"],
                "companyName": "x" * 201,
                "address": {"latitude": 91, "country": "GBR"},
            }
        },
    )
    payload = data["createContact"]
    assert payload["contact"] is None
    codes = {e["field"]: e["code"] for e in payload["errors"]}
    assert codes == {
        "firstName": "REQUIRED",
        "emails.0": "INVALID_EMAIL",
        "phones.0": "INVALID_PHONE",
        "companyName": "TOO_LONG",
        "address.latitude": "OUT_OF_RANGE",
        "address.country": "INVALID",
    }
    assert await Contact.all().count() == 0
    assert await AuditEntry.all().count() == audit_rows


async def test_update_changes_only_given_fields_and_audits_the_difference(api: Api) -> None:
    contact = await create(api, lastName="Byron", emails=["ada@example.com"])
    data = await api.graphql(UPDATE, {"input": {"id": contact["id"], "lastName": "Lovelace"}})
    updated = data["updateContact"]["contact"]
    assert updated["lastName"] == "Lovelace"
    assert updated["emails"] == ["ada@example.com"]
    audit = await AuditEntry.filter(action="update").get()
    assert (audit.before, audit.after) == ({"last_name": "Byron"}, {"last_name": "Lovelace"})


async def test_update_with_bad_field_changes_nothing(api: Api) -> None:
    contact = await create(api, lastName="Byron")
    data = await api.graphql(
        UPDATE, {"input": {"id": contact["id"], "lastName": "Lovelace", "emails": ["bad"]}}
    )
    assert data["updateContact"]["errors"][0]["code"] == "INVALID_EMAIL"
    assert (await api.graphql(GET, {"id": contact["id"]}))["contact"]["lastName"] == "Byron"


async def test_deleted_or_other_type_id_is_not_found(api: Api) -> None:
    contact = await create(api)
    await api.graphql(DELETE, {"id": contact["id"]})
    other_type = "TGlmZWN5Y2xlOjE="  # base64 of "Lifecycle:1"
    for bad_id in (contact["id"], other_type):
        data = await api.graphql(TRANSITION, {"id": bad_id, "event": "MARK_HOT"})
        assert data["transitionContact"]["errors"][0]["code"] == "NOT_FOUND"
        assert (await api.graphql(GET, {"id": bad_id}))["contact"] is None


async def test_malformed_id_is_a_graphql_error_not_a_crash(api: Api) -> None:
    response = await api.post(json={"query": GET, "variables": {"id": "not-a-global-id"}})
    body = response.json()
    assert response.status_code == 200
    assert body["data"] == {"contact": None}
    assert "GlobalID" in body["errors"][0]["message"]


async def test_deleted_contact_disappears_from_queries_but_stays_stored(api: Api) -> None:
    kept = await create(api, firstName="Kept")
    gone = await create(api, firstName="Gone")
    data = await api.graphql(DELETE, {"id": gone["id"]})
    assert data["deleteContact"]["errors"] == []
    listed = (await api.graphql(LIST, {"first": 10}))["contacts"]["edges"]
    assert [e["node"]["id"] for e in listed] == [kept["id"]]
    assert await Contact.all().count() == 2
    second = await api.graphql(DELETE, {"id": gone["id"]})
    assert second["deleteContact"]["errors"][0]["code"] == "NOT_FOUND"


async def test_pages_walk_every_contact_once_in_order(api: Api) -> None:
    names = [f"P{i:02d}" for i in range(7)]
    for name in names:
        await create(api, firstName=name)
    seen: list[str] = []
    after = None
    while True:
        data = await api.graphql(
            LIST,
            {"first": 3, "after": after, "orderBy": {"field": "FIRST_NAME", "direction": "ASC"}},
        )
        page = data["contacts"]
        seen += [e["node"]["firstName"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == names


async def test_pagination_is_stable_when_contacts_are_added_between_pages(api: Api) -> None:
    for name in ("A", "B", "C", "D"):
        await create(api, firstName=name)
    first = (await api.graphql(LIST, {"first": 2}))["contacts"]
    await create(api, firstName="Newest")
    second = await api.graphql(LIST, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    names = [e["node"]["firstName"] for e in second["contacts"]["edges"]]
    assert names == ["B", "A"]


async def test_filter_by_status_and_search(api: Api) -> None:
    hot = await create(api, firstName="Grace", companyName="Navy")
    await create(api, firstName="Alan", companyName="Bletchley")
    await api.graphql(TRANSITION, {"id": hot["id"], "event": "MARK_HOT"})
    by_status = await api.graphql(LIST, {"filter": {"statusIn": ["HOT"]}})
    assert [e["node"]["firstName"] for e in by_status["contacts"]["edges"]] == ["Grace"]
    by_search = await api.graphql(LIST, {"filter": {"search": "bletch"}})
    assert [e["node"]["firstName"] for e in by_search["contacts"]["edges"]] == ["Alan"]


async def test_page_size_over_maximum_and_bad_cursor_are_typed_errors(api: Api) -> None:
    for variables, code, field in (
        ({"first": 101}, "INVALID_PAGE_SIZE", "first"),
        ({"first": -1}, "INVALID_PAGE_SIZE", "first"),
        ({"after": "garbage"}, "INVALID_CURSOR", "after"),
    ):
        response = await api.post(json={"query": LIST, "variables": variables})
        body = response.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": code, "field": field}


async def test_lifecycle_introspection_matches_the_machine(api: Api) -> None:
    data = await api.graphql(
        """{ lifecycle(recordType: "Contact") {
              recordType states { id final } events { id } transitions { event source target }
              diagram } }"""
    )
    lifecycle = data["lifecycle"]
    assert [s["id"] for s in lifecycle["states"] if s["final"]] == ["CONVERTED"]
    assert {"event": "CONVERT", "source": "HOT", "target": "CONVERTED"} in lifecycle["transitions"]
    assert {e["id"] for e in lifecycle["events"]} == {
        "MARK_HOT",
        "MARK_COLD",
        "MARK_NOT_INTERESTED",
        "REOPEN",
        "CONVERT",
    }
    assert lifecycle["diagram"].startswith("stateDiagram-v2")
