"""Tags shared per agency, tag filters and text search, over GraphQL/HTTP on both databases."""

from __future__ import annotations

from typing import Any

from db.audit import AuditEntry
from db.tags import RecordTag, Tag
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api

CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id tags } errors { field code } }
}"""
UPDATE_CONTACT = """
mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { id tags } errors { field code } }
}"""
DELETE_CONTACT = """
mutation($id: ID!) { deleteContact(input: {id: $id}) { errors { code } } }"""
CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id tags } errors { field code } }
}"""
CONTACTS = """
query($where: ContactFilter) { contacts(first: 50, filter: $where) { edges { node { id } } } }"""
CUSTOMERS = """
query($where: CustomerFilter) { customers(first: 50, filter: $where) { edges { node { id } } } }"""
TAGS = "{ tags { tag { id name color } usage { recordType count } total } }"
CREATE_TAG = """
mutation($input: CreateTagInput!) {
  createTag(input: $input) { tag { id name color } errors { field code } }
}"""
UPDATE_TAG = """
mutation($input: UpdateTagInput!) {
  updateTag(input: $input) { tag { id name color } errors { field code } }
}"""
DELETE_TAG = """
mutation($id: ID!) { deleteTag(input: {id: $id}) { tag { name } errors { field code } } }"""


async def contact(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(CREATE_CONTACT, {"input": {"firstName": "Ana", **fields}})
    assert data["createContact"]["errors"] == [], data["createContact"]["errors"]
    created: dict[str, Any] = data["createContact"]["contact"]
    return created


async def customer(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(CREATE_CUSTOMER, {"input": {"name": "Initech", **fields}})
    assert data["createCustomer"]["errors"] == [], data["createCustomer"]["errors"]
    created: dict[str, Any] = data["createCustomer"]["customer"]
    return created


async def contact_ids(api: Api, **where: Any) -> set[str]:
    data = await api.graphql(CONTACTS, {"where": where})
    return {edge["node"]["id"] for edge in data["contacts"]["edges"]}


async def customer_ids(api: Api, **where: Any) -> set[str]:
    data = await api.graphql(CUSTOMERS, {"where": where})
    return {edge["node"]["id"] for edge in data["customers"]["edges"]}


async def catalogue(api: Api) -> dict[str, dict[str, Any]]:
    """Each tag by name, with `counts`: its usage per record type (every type listed)."""
    data = await api.graphql(TAGS)
    found: dict[str, dict[str, Any]] = {}
    for entry in data["tags"]:
        counts = {use["recordType"]: use["count"] for use in entry["usage"]}
        assert list(counts) == ["CONTACT", "CUSTOMER", "LEAD", "DEAL", "CALLING_TASK"]
        assert entry["total"] == sum(counts.values())
        found[entry["tag"]["name"]] = {**entry, "counts": counts}
    return found


async def test_a_tag_is_one_per_agency_whatever_its_letter_case(api: Api) -> None:
    first = await contact(api, tags=["VIP", "Renewal"])
    second = await contact(api, tags=[" vip "])
    company = await customer(api, tags=["renewal"])
    assert first["tags"] == ["VIP", "Renewal"]
    assert second["tags"] == ["VIP"]
    assert company["tags"] == ["Renewal"]
    tags = await catalogue(api)
    assert set(tags) == {"VIP", "Renewal"}
    assert (tags["VIP"]["counts"]["CONTACT"], tags["VIP"]["counts"]["CUSTOMER"]) == (2, 0)
    assert (tags["Renewal"]["counts"]["CONTACT"], tags["Renewal"]["counts"]["CUSTOMER"]) == (1, 1)
    assert (tags["VIP"]["total"], tags["Renewal"]["total"]) == (2, 2)
    assert await Tag.all().count() == 2


async def test_tag_filters_all_of_and_any_of(api: Api) -> None:
    both = await contact(api, tags=["VIP", "Renewal"])
    vip = await contact(api, tags=["VIP"])
    renewal = await contact(api, tags=["Renewal"])
    await contact(api, tags=[])
    assert await contact_ids(api, tags=["vip", "RENEWAL"]) == {both["id"]}
    assert await contact_ids(api, tags=["VIP"]) == {both["id"], vip["id"]}
    assert await contact_ids(api, tagsAny=["vip", "renewal"]) == {
        both["id"],
        vip["id"],
        renewal["id"],
    }
    assert await contact_ids(api, tags=["unknown"]) == set()
    big = await customer(api, tags=["Enterprise"])
    await customer(api, name="Small Co")
    assert await customer_ids(api, tags=["enterprise"]) == {big["id"]}
    assert await customer_ids(api, tagsAny=["Enterprise", "nope"]) == {big["id"]}


async def test_retagging_and_deleting_a_record_keep_the_index_in_step(api: Api) -> None:
    tagged = await contact(api, tags=["VIP"])
    data = await api.graphql(UPDATE_CONTACT, {"input": {"id": tagged["id"], "tags": ["Cold"]}})
    assert data["updateContact"]["contact"]["tags"] == ["Cold"]
    assert await contact_ids(api, tags=["VIP"]) == set()
    assert await contact_ids(api, tags=["Cold"]) == {tagged["id"]}
    await api.graphql(DELETE_CONTACT, {"id": tagged["id"]})
    assert (await catalogue(api))["Cold"]["total"] == 0
    assert await RecordTag.all().count() == 0


async def test_rename_reaches_every_record_and_delete_removes_the_tag_everywhere(api: Api) -> None:
    tagged = await contact(api, tags=["Renewal", "VIP"])
    company = await customer(api, tags=["vip"])
    vip = (await catalogue(api))["VIP"]["tag"]
    data = await api.graphql(UPDATE_TAG, {"input": {"id": vip["id"], "name": "Key account"}})
    assert data["updateTag"]["errors"] == []
    assert await contact_ids(api, tags=["key account"]) == {tagged["id"]}
    assert await customer_ids(api, tags=["Key Account"]) == {company["id"]}
    data = await api.graphql(UPDATE_CONTACT, {"input": {"id": tagged["id"]}})
    assert data["updateContact"]["contact"]["tags"] == ["Renewal", "Key account"]
    assert await AuditEntry.filter(entity_type="tag", action="update").count() == 1

    data = await api.graphql(DELETE_TAG, {"id": vip["id"]})
    assert data["deleteTag"] == {"tag": {"name": "Key account"}, "errors": []}
    data = await api.graphql(UPDATE_CONTACT, {"input": {"id": tagged["id"]}})
    assert data["updateContact"]["contact"]["tags"] == ["Renewal"]
    assert set(await catalogue(api)) == {"Renewal"}


async def test_catalogue_input_is_checked_and_nothing_is_written(api: Api) -> None:
    data = await api.graphql(CREATE_TAG, {"input": {"name": "Hot lead", "color": "#00aa00"}})
    assert data["createTag"]["errors"] == []
    hot = data["createTag"]["tag"]
    data = await api.graphql(CREATE_TAG, {"input": {"name": "HOT LEAD"}})
    assert data["createTag"] == {
        "tag": None,
        "errors": [{"field": "name", "code": "DUPLICATE_NAME"}],
    }
    data = await api.graphql(CREATE_TAG, {"input": {"name": "", "color": "red"}})
    assert {(e["field"], e["code"]) for e in data["createTag"]["errors"]} == {
        ("name", "REQUIRED"),
        ("color", "INVALID"),
    }
    other = await api.graphql(CREATE_TAG, {"input": {"name": "Other"}})
    data = await api.graphql(
        UPDATE_TAG, {"input": {"id": other["createTag"]["tag"]["id"], "name": "hot lead"}}
    )
    assert data["updateTag"]["errors"] == [{"field": "name", "code": "DUPLICATE_NAME"}]
    assert set(await catalogue(api)) == {"Hot lead", "Other"}
    assert (await catalogue(api))["Hot lead"]["tag"] == hot


async def test_salespeople_tag_records_but_do_not_curate_the_catalogue(api: Api) -> None:
    sales, _ = await colleague(api, Role.SALES_PERSON)
    mine = await contact(sales, tags=["Referral"])
    assert mine["tags"] == ["Referral"]
    data = await sales.graphql(CREATE_TAG, {"input": {"name": "Mine"}})
    assert data["createTag"]["errors"] == [{"field": None, "code": "FORBIDDEN"}]
    head, _ = await colleague(api, Role.SALES_HEAD)
    referral = (await catalogue(api))["Referral"]["tag"]
    data = await head.graphql(UPDATE_TAG, {"input": {"id": referral["id"], "color": "#123456"}})
    assert data["updateTag"]["errors"] == []


async def test_another_agency_never_sees_or_matches_our_tags(api: Api) -> None:
    ours = await contact(api, tags=["VIP"])
    bolt = await other_agency_admin(api)
    assert await catalogue(bolt) == {}
    theirs = await contact(bolt, tags=["vip"])
    assert theirs["tags"] == ["vip"]  # their own catalogue, their own spelling
    assert await contact_ids(bolt, tags=["VIP"]) == {theirs["id"]}
    assert await contact_ids(api, tags=["VIP"]) == {ours["id"]}
    vip = (await catalogue(api))["VIP"]["tag"]
    data = await bolt.graphql(UPDATE_TAG, {"input": {"id": vip["id"], "name": "Mine now"}})
    assert data["updateTag"]["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert set(await catalogue(api)) == {"VIP"}


async def test_search_finds_names_emails_and_phones_in_any_format(api: Api) -> None:
    ana = await contact(
        api,
        firstName="Ana",
        lastName="Silva",
        emails=["ana.silva@initech.example.com"],
        phones=["+44 20 7946 0958"],
    )
    await contact(
        api, firstName="Bob", emails=["bob@other.example.com"], phones=["+1 212 555 0100"]
    )
    for term in ("ana silva", "SILVA", "ana.silva@INITECH", "020 7946 0958", "+44 20 7946 0958"):
        assert await contact_ids(api, search=term) == {ana["id"]}, term
    assert await contact_ids(api, search="7946 0958") == {ana["id"]}
    assert await contact_ids(api, search="nobody") == set()
    data = await api.graphql(
        UPDATE_CONTACT, {"input": {"id": ana["id"], "emails": ["ana@elsewhere.example.com"]}}
    )
    assert data["updateContact"]["errors"] == []
    assert await contact_ids(api, search="initech") == set()
    assert await contact_ids(api, search="elsewhere") == {ana["id"]}


async def test_customer_search_covers_names_website_and_billing_email(api: Api) -> None:
    found = await customer(
        api,
        name="Initech",
        legalName="Initech Holdings Ltd",
        website="https://initech.example.com",
        billingEmail="ap@initech.example.com",
    )
    await customer(api, name="Globex")
    for term in ("initech", "holdings", "AP@INITECH"):
        assert await customer_ids(api, search=term) == {found["id"]}, term
