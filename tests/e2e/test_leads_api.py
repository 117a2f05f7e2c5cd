"""Leads over GraphQL/HTTP: create, update, the lifecycle with its qualify guard, conversion
into a deal in one transaction, soft delete, lists, and isolation between agencies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from strawberry import relay

from db.audit import AuditEntry
from db.deals import Deal
from db.events import Event
from db.leads import Lead
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api

LEAD_FIELDS = """
    id title services contactId ownerId source estimatedValue currency status allowedEvents
    dealId createdAt updatedAt
"""
DEAL_FIELDS = """
    id name amount currency expectedCloseDate ownerId contactId leadId pipelineId status
    stage { id name }
"""
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($input: CreateLeadInput!) {{
  createLead(input: $input) {{ lead {{ {LEAD_FIELDS} }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($input: UpdateLeadInput!) {{
  updateLead(input: $input) {{ lead {{ {LEAD_FIELDS} }} {ERRORS} }}
}}"""
TRANSITION = f"""
mutation($id: ID!, $event: LeadEvent!) {{
  transitionLead(input: {{id: $id, event: $event}}) {{ lead {{ {LEAD_FIELDS} }} {ERRORS} }}
}}"""
CONVERT = f"""
mutation($input: ConvertLeadInput!) {{
  convertLead(input: $input) {{ lead {{ {LEAD_FIELDS} }} deal {{ {DEAL_FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!) {{ deleteLead(input: {{id: $id}}) {{ lead {{ id }} {ERRORS} }} }}"
GET = f"query($id: ID!) {{ lead(id: $id) {{ {LEAD_FIELDS} }} }}"
GET_DEAL = f"query($id: ID!) {{ deal(id: $id) {{ {DEAL_FIELDS} }} }}"
LIST = """
query($first: Int, $after: String, $filter: LeadFilter, $orderBy: LeadOrder) {
  leads(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { node { id title status } }
    pageInfo { hasNextPage endCursor }
  }
}"""
CONTACT = """
mutation { createContact(input: {firstName: "Grace"}) { contact { id } } }"""
PIPELINES = "{ pipelines { id stages { id name } } }"


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    values = {"title": "Shop redesign", "services": ["Web design", "SEO"], **fields}
    payload = (await api.graphql(CREATE, {"input": values}))["createLead"]
    assert payload["errors"] == [], payload["errors"]
    lead: dict[str, Any] = payload["lead"]
    return lead


async def transition(api: Api, lead_id: str, event: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.graphql(TRANSITION, {"id": lead_id, "event": event}))[
        "transitionLead"
    ]
    return payload


async def qualified(api: Api, **fields: Any) -> dict[str, Any]:
    lead = await create(api, **fields)
    assert (await transition(api, lead["id"], "QUALIFY"))["errors"] == []
    return lead


async def convert(api: Api, lead_id: str, **options: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.graphql(CONVERT, {"input": {"id": lead_id, **options}}))[
        "convertLead"
    ]
    return payload


def uuid_of(global_id: str) -> str:
    return relay.GlobalID.from_id(global_id).node_id


def codes(payload: dict[str, Any]) -> dict[str | None, str]:
    return {e["field"]: e["code"] for e in payload["errors"]}


async def test_create_lead_returns_every_field(api: Api) -> None:
    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    lead = await create(
        api,
        services=[" SEO ", "SEO", "Ads"],
        contactId=contact,
        source="referral",
        estimatedValue="25000",
        currency="chf",
    )
    me = (await api.graphql("{ me { id } }"))["me"]["id"]
    assert lead["services"] == ["SEO", "Ads"]
    assert (lead["estimatedValue"], lead["currency"]) == ("25000.00", "CHF")
    assert (lead["contactId"], lead["ownerId"], lead["source"]) == (contact, me, "referral")
    assert (lead["status"], lead["dealId"]) == ("NEW", None)
    assert lead["allowedEvents"] == ["QUALIFY", "DISQUALIFY"]
    assert (await api.graphql(GET, {"id": lead["id"]}))["lead"] == lead


async def test_lead_input_errors_are_typed_and_write_nothing(api: Api) -> None:
    data = await api.graphql(
        CREATE,
        {
            "input": {
                "title": "",
                "services": ["SEO", "x" * 101],
                "estimatedValue": "1000000000000",
                "currency": "XYZ",
                "source": "s" * 51,
            }
        },
    )
    assert codes(data["createLead"]) == {
        "title": "REQUIRED",
        "services.1": "TOO_LONG",
        "estimatedValue": "OUT_OF_RANGE",
        "currency": "INVALID_CURRENCY",
        "source": "TOO_LONG",
    }
    for fields, expected in (
        ({"estimatedValue": "5"}, {"currency": "REQUIRED"}),
        ({"services": [f"s{i}" for i in range(21)]}, {"services": "TOO_MANY"}),
    ):
        payload = (await api.graphql(CREATE, {"input": {"title": "X", **fields}}))["createLead"]
        assert codes(payload) == expected
    assert await Lead.all().count() == 0


async def test_a_lead_names_only_a_contact_the_caller_can_see(api: Api) -> None:
    bolt = await other_agency_admin(api)
    foreign = (await bolt.graphql(CONTACT))["createContact"]["contact"]["id"]
    data = await api.graphql(CREATE, {"input": {"title": "X", "contactId": foreign}})
    assert codes(data["createLead"]) == {"contactId": "NOT_FOUND"}


async def test_qualifying_needs_a_scope_of_work(api: Api) -> None:
    lead = await create(api, services=[])
    refused = await transition(api, lead["id"], "QUALIFY")
    assert codes(refused) == {"services": "GUARD_FAILED"}
    await api.graphql(UPDATE, {"input": {"id": lead["id"], "services": ["Hosting"]}})
    ok = await transition(api, lead["id"], "QUALIFY")
    assert (ok["lead"]["status"], ok["lead"]["allowedEvents"]) == (
        "QUALIFIED",
        ["DISQUALIFY", "CONVERT"],
    )


async def test_disqualified_lead_can_be_reopened_and_illegal_events_are_typed(api: Api) -> None:
    lead = await create(api)
    illegal = await transition(api, lead["id"], "CONVERT")
    assert codes(illegal) == {"event": "INVALID_TRANSITION"}
    assert "QUALIFY" in illegal["errors"][0]["message"]
    assert (await transition(api, lead["id"], "DISQUALIFY"))["lead"]["status"] == "DISQUALIFIED"
    assert (await transition(api, lead["id"], "REOPEN"))["lead"]["status"] == "NEW"
    audit = await AuditEntry.filter(entity_id=uuid_of(lead["id"]), action="transition:reopen").get()
    assert (audit.before, audit.after) == ({"status": "disqualified"}, {"status": "new"})


async def test_converting_creates_the_deal_in_one_transaction_and_returns_both(api: Api) -> None:
    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    _, sales_id = await colleague(api, Role.SALES_PERSON)
    sales_gid = str(relay.GlobalID("User", str(sales_id)))
    lead = await qualified(
        api, contactId=contact, estimatedValue="8000", currency="EUR", ownerId=sales_gid
    )
    converted = await convert(api, lead["id"])
    assert converted["errors"] == []
    deal = converted["deal"]
    assert (deal["name"], deal["amount"], deal["currency"]) == ("Shop redesign", "8000.00", "EUR")
    # the deal stays with the lead's owner, whoever converts it
    assert (deal["contactId"], deal["leadId"], deal["ownerId"]) == (contact, lead["id"], sales_gid)
    assert (deal["status"], deal["stage"]["name"]) == ("OPEN", "Prospecting")
    in_30_days = (datetime.now(UTC) + timedelta(days=30)).date()
    assert deal["expectedCloseDate"] in {
        in_30_days.isoformat(),
        (in_30_days - timedelta(days=1)).isoformat(),
    }
    assert converted["lead"]["status"] == "CONVERTED"
    assert (converted["lead"]["dealId"], converted["lead"]["allowedEvents"]) == (deal["id"], [])
    assert (await api.graphql(GET_DEAL, {"id": deal["id"]}))["deal"] == deal

    types = [e.type for e in await Event.filter(type__in=["deal.created", "lead.transitioned"])]
    assert types[-2:] == ["deal.created", "lead.transitioned"]
    transitioned = await Event.filter(type="lead.transitioned").order_by("-id").first()
    assert transitioned is not None
    assert transitioned.payload == {
        "event": "convert",
        "from": "qualified",
        "to": "converted",
        "deal_id": uuid_of(deal["id"]),
    }


async def test_conversion_options_shape_the_deal(api: Api) -> None:
    pipeline = (await api.graphql(PIPELINES))["pipelines"][0]
    stage = {s["name"]: s["id"] for s in pipeline["stages"]}["Proposal"]
    lead = await qualified(api, estimatedValue="100", currency="USD")
    converted = await convert(
        api,
        lead["id"],
        name="Shop redesign, phase 1",
        stageId=stage,
        amount="120.50",
        currency="GBP",
        expectedCloseDate="2030-12-24",
    )
    deal = converted["deal"]
    assert (deal["name"], deal["amount"], deal["currency"]) == (
        "Shop redesign, phase 1",
        "120.50",
        "GBP",
    )
    assert (deal["stage"]["id"], deal["expectedCloseDate"]) == (stage, "2030-12-24")


async def test_failed_conversion_changes_nothing(api: Api) -> None:
    pipeline = (await api.graphql(PIPELINES))["pipelines"][0]
    won = {s["name"]: s["id"] for s in pipeline["stages"]}["Closed Won"]
    lead = await qualified(api)
    events = await Event.all().count()
    refused = await convert(api, lead["id"], stageId=won)
    assert (refused["lead"], refused["deal"]) == (None, None)
    assert codes(refused) == {"stageId": "STAGE_CLOSED"}
    assert codes(await convert(api, lead["id"], amount="5")) == {"currency": "REQUIRED"}
    assert (await api.graphql(GET, {"id": lead["id"]}))["lead"]["status"] == "QUALIFIED"
    assert await Deal.all().count() == 0
    assert await Event.all().count() == events

    new = await create(api)
    assert codes(await convert(api, new["id"])) == {"event": "INVALID_TRANSITION"}


async def test_a_lead_converts_once(api: Api) -> None:
    lead = await qualified(api)
    assert (await convert(api, lead["id"]))["errors"] == []
    again = await convert(api, lead["id"])
    assert codes(again) == {"event": "INVALID_TRANSITION"}
    assert await Deal.all().count() == 1


async def test_transition_convert_uses_the_same_conversion(api: Api) -> None:
    lead = await qualified(api)
    payload = await transition(api, lead["id"], "CONVERT")
    assert payload["lead"]["status"] == "CONVERTED"
    deal = (await api.graphql(GET_DEAL, {"id": payload["lead"]["dealId"]}))["deal"]
    assert deal["leadId"] == lead["id"]


async def test_update_changes_only_given_fields_and_audits_the_difference(api: Api) -> None:
    lead = await create(api, source="fair")
    data = await api.graphql(
        UPDATE, {"input": {"id": lead["id"], "estimatedValue": "99.90", "currency": "EUR"}}
    )
    updated = data["updateLead"]["lead"]
    assert (updated["estimatedValue"], updated["currency"], updated["source"]) == (
        "99.90",
        "EUR",
        "fair",
    )
    audit = await AuditEntry.filter(entity_type="lead", action="update").get()
    assert (audit.before, audit.after) == (
        {"estimated_value": None, "currency": None},
        {"estimated_value": "99.90", "currency": "EUR"},
    )
    bad = await api.graphql(UPDATE, {"input": {"id": lead["id"], "currency": "EURO"}})
    assert codes(bad["updateLead"]) == {"currency": "INVALID_CURRENCY"}


async def test_deleted_lead_disappears_but_stays_stored(api: Api) -> None:
    kept = await create(api, title="Kept")
    gone = await create(api, title="Gone")
    assert (await api.graphql(DELETE, {"id": gone["id"]}))["deleteLead"]["errors"] == []
    listed = (await api.graphql(LIST, {}))["leads"]["edges"]
    assert [e["node"]["id"] for e in listed] == [kept["id"]]
    assert (await api.graphql(GET, {"id": gone["id"]}))["lead"] is None
    assert codes(await transition(api, gone["id"], "QUALIFY")) == {"id": "NOT_FOUND"}
    assert await Lead.all().count() == 2


async def test_filters_search_and_pages(api: Api) -> None:
    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    await create(api, title="Alpha shop", source="web")
    beta = await create(api, title="Beta app", source="referral", contactId=contact)
    await create(api, title="Gamma shop", source="web")
    await transition(api, beta["id"], "QUALIFY")

    async def titles(filter: dict[str, Any]) -> list[str]:
        order = {"field": "TITLE", "direction": "ASC"}
        data = await api.graphql(LIST, {"filter": filter, "orderBy": order})
        return [e["node"]["title"] for e in data["leads"]["edges"]]

    assert await titles({"search": "SHOP"}) == ["Alpha shop", "Gamma shop"]
    assert await titles({"search": "referral"}) == ["Beta app"]
    assert await titles({"statusIn": ["QUALIFIED"]}) == ["Beta app"]
    assert await titles({"contactId": contact}) == ["Beta app"]
    assert await titles({"source": "web", "statusIn": ["NEW"]}) == ["Alpha shop", "Gamma shop"]

    seen: list[str] = []
    after = None
    while True:
        data = await api.graphql(LIST, {"first": 2, "after": after})
        seen += [e["node"]["title"] for e in data["leads"]["edges"]]
        if not data["leads"]["pageInfo"]["hasNextPage"]:
            break
        after = data["leads"]["pageInfo"]["endCursor"]
    assert seen == ["Gamma shop", "Beta app", "Alpha shop"]


async def test_sales_people_see_only_their_own_leads(api: Api) -> None:
    sales, _ = await colleague(api, Role.SALES_PERSON)
    own = await create(sales, title="Mine")
    others = await create(api, title="Not mine")
    listed = [e["node"]["title"] for e in (await sales.graphql(LIST, {}))["leads"]["edges"]]
    assert listed == ["Mine"]
    assert (await sales.graphql(GET, {"id": others["id"]}))["lead"] is None
    assert (await api.graphql(GET, {"id": own["id"]}))["lead"]["title"] == "Mine"


async def test_another_agency_can_neither_see_nor_touch_a_lead(api: Api) -> None:
    lead = await qualified(api)
    bolt = await other_agency_admin(api)
    assert (await bolt.graphql(GET, {"id": lead["id"]}))["lead"] is None
    assert (await bolt.graphql(LIST, {}))["leads"]["edges"] == []
    assert codes(await convert(bolt, lead["id"])) == {"id": "NOT_FOUND"}
    assert codes(await transition(bolt, lead["id"], "DISQUALIFY")) == {"id": "NOT_FOUND"}
    deleted = await bolt.graphql(DELETE, {"id": lead["id"]})
    assert codes(deleted["deleteLead"]) == {"id": "NOT_FOUND"}
    assert (await api.graphql(GET, {"id": lead["id"]}))["lead"]["status"] == "QUALIFIED"


async def test_lead_lifecycle_introspection_matches_the_machine(api: Api) -> None:
    data = await api.graphql(
        '{ lifecycle(recordType: "Lead") { states { id final } transitions { event source } } }'
    )
    lifecycle = data["lifecycle"]
    assert [s["id"] for s in lifecycle["states"] if s["final"]] == ["CONVERTED"]
    assert {"event": "CONVERT", "source": "QUALIFIED"} in lifecycle["transitions"]


CUSTOMER = """
mutation { createCustomer(input: {name: "Initech"}) { customer { id } } }"""
LINKED = """
query($id: ID!) {
  lead(id: $id) {
    customerId owner { name } contact { id firstName } customer { id name }
  }
}"""
DEAL_LINKED = """
query($id: ID!) { deal(id: $id) { customerId owner { name } contact { id } customer { name } } }"""


async def test_a_lead_links_a_customer_and_shows_its_people_as_objects(api: Api) -> None:
    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    customer = (await api.graphql(CUSTOMER))["createCustomer"]["customer"]["id"]
    lead = await create(api, contactId=contact, customerId=customer)
    data = await api.graphql(LINKED, {"id": lead["id"]})
    assert data["lead"] == {
        "customerId": customer,
        "owner": {"name": "Ada Admin"},
        "contact": {"id": contact, "firstName": "Grace"},
        "customer": {"id": customer, "name": "Initech"},
    }
    await create(api, title="Unlinked")
    listed = await api.graphql(LIST, {"filter": {"customerId": customer}})
    assert [edge["node"]["id"] for edge in listed["leads"]["edges"]] == [lead["id"]]


async def test_the_deal_of_a_converted_lead_keeps_its_customer(api: Api) -> None:
    customer = (await api.graphql(CUSTOMER))["createCustomer"]["customer"]["id"]
    lead = await qualified(api, customerId=customer)
    deal = (await convert(api, lead["id"]))["deal"]
    data = await api.graphql(DEAL_LINKED, {"id": deal["id"]})
    assert data["deal"] == {
        "customerId": customer,
        "owner": {"name": "Ada Admin"},
        "contact": None,
        "customer": {"name": "Initech"},
    }


async def test_a_lead_names_only_a_customer_the_caller_can_see(api: Api) -> None:
    bolt = await other_agency_admin(api)
    foreign = (await bolt.graphql(CUSTOMER))["createCustomer"]["customer"]["id"]
    data = await api.graphql(CREATE, {"input": {"title": "X", "customerId": foreign}})
    assert codes(data["createLead"]) == {"customerId": "NOT_FOUND"}
    assert await Lead.filter(title="X").count() == 0
