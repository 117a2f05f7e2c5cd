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


# --- leads, deals and calling tasks ---------------------------------------------------------

CREATE_LEAD = """
mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id tags } errors { field code } }
}"""
CREATE_DEAL = """
mutation($input: CreateDealInput!) {
  createDeal(input: $input) { deal { id tags } errors { field code } }
}"""
CREATE_TASK = """
mutation($input: CreateCallingTaskInput!) {
  createCallingTask(input: $input) { callingTask { id tags } errors { field code } }
}"""
UPDATE = {
    "lead": "mutation($input: UpdateLeadInput!) { updateLead(input: $input) "
    "{ lead { id tags } errors { field code } } }",
    "deal": "mutation($input: UpdateDealInput!) { updateDeal(input: $input) "
    "{ deal { id tags } errors { field code } } }",
    "callingTask": "mutation($input: UpdateCallingTaskInput!) { updateCallingTask(input: $input) "
    "{ callingTask { id tags } errors { field code } } }",
}
DELETE = {
    "lead": "mutation($id: ID!) { deleteLead(input: {id: $id}) { errors { code } } }",
    "deal": "mutation($id: ID!) { deleteDeal(input: {id: $id}) { errors { code } } }",
    "callingTask": "mutation($id: ID!) { deleteCallingTask(input: {id: $id}) { errors { code } } }",
}
LIST = {
    "lead": "query($where: LeadFilter) { leads(first: 50, filter: $where) "
    "{ edges { node { id } } } }",
    "deal": "query($where: DealFilter) { deals(first: 50, filter: $where) "
    "{ edges { node { id } } } }",
    "callingTask": "query($where: CallingTaskFilter) { callingTasks(first: 50, filter: $where) "
    "{ edges { node { id } } } }",
}
ROOTS = {"lead": "leads", "deal": "deals", "callingTask": "callingTasks"}


async def lead(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(CREATE_LEAD, {"input": {"title": "Website", **fields}})
    assert data["createLead"]["errors"] == [], data["createLead"]["errors"]
    created: dict[str, Any] = data["createLead"]["lead"]
    return created


async def deal(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(
        CREATE_DEAL, {"input": {"name": "Redesign", "expectedCloseDate": "2030-01-01", **fields}}
    )
    assert data["createDeal"]["errors"] == [], data["createDeal"]["errors"]
    created: dict[str, Any] = data["createDeal"]["deal"]
    return created


async def task(api: Api, **fields: Any) -> dict[str, Any]:
    kim = await contact(api, firstName="Kim")
    data = await api.graphql(
        CREATE_TASK, {"input": {"subject": "Intro call", "contactId": kim["id"], **fields}}
    )
    assert data["createCallingTask"]["errors"] == [], data["createCallingTask"]["errors"]
    created: dict[str, Any] = data["createCallingTask"]["callingTask"]
    return created


async def ids_of(api: Api, kind: str, **where: Any) -> set[str]:
    data = await api.graphql(LIST[kind], {"where": where})
    return {edge["node"]["id"] for edge in data[ROOTS[kind]]["edges"]}


async def updated(api: Api, kind: str, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(UPDATE[kind], {"input": fields})
    root = f"update{kind[0].upper()}{kind[1:]}"
    assert data[root]["errors"] == [], data[root]["errors"]
    record: dict[str, Any] = data[root][kind]
    return record


async def test_leads_deals_and_calling_tasks_share_the_catalogue_and_filter_by_tags(
    api: Api,
) -> None:
    await contact(api, tags=["VIP"])
    both = await lead(api, tags=["vip", "Renewal"])
    vip_lead = await lead(api, tags=["VIP "])
    await lead(api)
    renewal_deal = await deal(api, tags=["RENEWAL"])
    await deal(api)
    vip_task = await task(api, tags=["vip"])
    cold_task = await task(api, tags=["Cold"])
    assert both["tags"] == ["VIP", "Renewal"]
    assert (vip_lead["tags"], renewal_deal["tags"], vip_task["tags"]) == (
        ["VIP"],
        ["Renewal"],
        ["VIP"],
    )

    assert await ids_of(api, "lead", tags=["VIP", "renewal"]) == {both["id"]}
    assert await ids_of(api, "lead", tags=["vip"]) == {both["id"], vip_lead["id"]}
    assert await ids_of(api, "lead", tagsAny=["renewal", "nope"]) == {both["id"]}
    assert await ids_of(api, "deal", tags=["Renewal"]) == {renewal_deal["id"]}
    assert await ids_of(api, "deal", tagsAny=["VIP"]) == set()
    assert await ids_of(api, "callingTask", tags=["VIP"]) == {vip_task["id"]}
    assert await ids_of(api, "callingTask", tagsAny=["vip", "cold"]) == {
        vip_task["id"],
        cold_task["id"],
    }

    tags = await catalogue(api)
    assert set(tags) == {"VIP", "Renewal", "Cold"}
    assert tags["VIP"]["counts"] == {
        "CONTACT": 1,
        "CUSTOMER": 0,
        "LEAD": 2,
        "DEAL": 0,
        "CALLING_TASK": 1,
    }
    assert (tags["VIP"]["total"], tags["Renewal"]["total"], tags["Cold"]["total"]) == (4, 2, 1)
    assert tags["Renewal"]["counts"]["DEAL"] == 1
    assert await Tag.all().count() == 3


async def test_retagging_and_deleting_leads_deals_and_tasks_keep_the_index_in_step(
    api: Api,
) -> None:
    records = {
        "lead": await lead(api, tags=["VIP"]),
        "deal": await deal(api, tags=["VIP"]),
        "callingTask": await task(api, tags=["VIP"]),
    }
    for kind, record in records.items():
        changed = await updated(api, kind, id=record["id"], tags=["cold", "Hot"])
        assert changed["tags"] == ["cold", "Hot"], kind
        assert await ids_of(api, kind, tags=["VIP"]) == set(), kind
        assert await ids_of(api, kind, tags=["hot", "COLD"]) == {record["id"]}, kind
        untouched = await updated(api, kind, id=record["id"])
        assert untouched["tags"] == ["cold", "Hot"], kind
    assert (await catalogue(api))["Hot"]["total"] == 3
    for kind, record in records.items():
        data = await api.graphql(DELETE[kind], {"id": record["id"]})
        assert data[f"delete{kind[0].upper()}{kind[1:]}"]["errors"] == []
    assert (await catalogue(api))["Hot"]["total"] == 0
    assert await RecordTag.all().count() == 0


async def test_rename_and_delete_of_a_tag_reach_leads_deals_and_calling_tasks(api: Api) -> None:
    records = {
        "lead": await lead(api, tags=["Renewal", "VIP"]),
        "deal": await deal(api, tags=["vip"]),
        "callingTask": await task(api, tags=["VIP", "Renewal"]),
    }
    vip = (await catalogue(api))["VIP"]["tag"]
    data = await api.graphql(UPDATE_TAG, {"input": {"id": vip["id"], "name": "Key account"}})
    assert data["updateTag"]["errors"] == []
    expected = {
        "lead": ["Renewal", "Key account"],
        "deal": ["Key account"],
        "callingTask": ["Key account", "Renewal"],
    }
    for kind, record in records.items():
        assert await ids_of(api, kind, tags=["KEY ACCOUNT"]) == {record["id"]}, kind
        assert (await updated(api, kind, id=record["id"]))["tags"] == expected[kind], kind

    data = await api.graphql(DELETE_TAG, {"id": vip["id"]})
    assert data["deleteTag"]["errors"] == []
    remaining = {"lead": ["Renewal"], "deal": [], "callingTask": ["Renewal"]}
    for kind, record in records.items():
        assert (await updated(api, kind, id=record["id"]))["tags"] == remaining[kind], kind
        assert await ids_of(api, kind, tags=["Key account"]) == set(), kind


async def test_tag_usage_counts_only_the_records_the_caller_may_read(api: Api) -> None:
    sales, _ = await colleague(api, Role.SALES_PERSON)
    await task(api, tags=["VIP"])  # assigned to the admin
    await task(sales, tags=["VIP"])
    await lead(api, tags=["VIP"])
    await deal(sales, tags=["VIP"])
    mine = (await catalogue(sales))["VIP"]["counts"]
    assert (mine["CALLING_TASK"], mine["LEAD"], mine["DEAL"]) == (1, 0, 1)
    everything = (await catalogue(api))["VIP"]["counts"]
    assert (everything["CALLING_TASK"], everything["LEAD"], everything["DEAL"]) == (2, 1, 1)


async def test_converting_a_lead_gives_the_deal_its_tags(api: Api) -> None:
    won = await lead(api, tags=["VIP"], services=["SEO"])
    data = await api.graphql(
        "mutation($id: ID!) { transitionLead(input: {id: $id, event: QUALIFY}) "
        "{ errors { code } } }",
        {"id": won["id"]},
    )
    assert data["transitionLead"]["errors"] == []
    data = await api.graphql(
        "mutation($id: ID!) { convertLead(input: {id: $id}) "
        "{ deal { id tags } errors { field code } } }",
        {"id": won["id"]},
    )
    assert data["convertLead"]["errors"] == []
    assert data["convertLead"]["deal"]["tags"] == ["VIP"]
    assert await ids_of(api, "deal", tags=["vip"]) == {data["convertLead"]["deal"]["id"]}


async def test_search_finds_leads_deals_and_calling_tasks_by_their_texts(api: Api) -> None:
    website = await lead(api, title="New Website", source="Trade Fair")
    await lead(api, title="SEO audit", source="referral")
    order = await deal(api, name="Order 2024-001 Initech")
    await deal(api, name="Globex retainer")
    call = await task(api, subject="Intro call with Kim")
    other = await task(api, subject="Follow-up")
    for term in ("website", "NEW WEB", "trade fair", "fair"):
        assert await ids_of(api, "lead", search=term) == {website["id"]}, term
    for term in ("initech", "2024-001", "ORDER 2024"):
        assert await ids_of(api, "deal", search=term) == {order["id"]}, term
    assert await ids_of(api, "callingTask", search="INTRO") == {call["id"]}
    assert await ids_of(api, "lead", search="nothing like it") == set()

    # Renamed records are found by their new texts only; outcome notes written by the
    # lifecycle are searchable too.
    await updated(api, "lead", id=website["id"], title="Shop relaunch")
    assert await ids_of(api, "lead", search="website") == set()
    assert await ids_of(api, "lead", search="relaunch") == {website["id"]}
    await updated(api, "deal", id=order["id"], name="Hooli expansion")
    assert await ids_of(api, "deal", search="hooli") == {order["id"]}
    done = await api.graphql(
        "mutation($id: ID!) { transitionCallingTask(input: {id: $id, event: COMPLETE, "
        'outcomeNotes: "Wants a Quote by Friday"}) { errors { code } } }',
        {"id": other["id"]},
    )
    assert done["transitionCallingTask"]["errors"] == []
    assert await ids_of(api, "callingTask", search="quote by friday") == {other["id"]}
