"""Campaigns through GraphQL: marketing creates, edits, activates and counts a campaign; the
agency lists what its visibility lets each person see; typed errors for bad input and illegal
or unready transitions; every change audited and evented."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from strawberry import relay

from db.audit import AuditEntry
from db.campaigns import CampaignAttribution
from db.events import Event
from db.messages import Message
from db.pipelines import Stage
from domain import contacts, deals, leads
from domain.actors import Actor
from domain.campaign_counters import CounterKind, count
from domain.message_preferences import update_preferences
from domain.roles import Role
from tests.e2e.colleagues import acme_system, colleague
from tests.e2e.conftest import Api
from tests.e2e.test_message_templates_api import create as create_template
from tests.e2e.test_message_templates_api import publish
from tests.fixtures.flows import Flows
from tests.fixtures.smtp import SmtpServer

ERRORS = "errors { field code message }"
CAMPAIGN = (
    "id title code type visibility status startsAt endsAt templates cost currency audienceType "
    "audience embedOrigins allowedEvents owner { name } counts { views likes enrolments }"
)
CREATE = f"""mutation($input: CreateCampaignInput!) {{
  createCampaign(input: $input) {{ campaign {{ {CAMPAIGN} }} {ERRORS} }}
}}"""
UPDATE = f"""mutation($input: UpdateCampaignInput!) {{
  updateCampaign(input: $input) {{ campaign {{ {CAMPAIGN} }} {ERRORS} }}
}}"""
TRANSITION = f"""mutation($id: ID!, $event: CampaignEvent!) {{
  transitionCampaign(input: {{id: $id, event: $event}}) {{ campaign {{ status }} {ERRORS} }}
}}"""
LIST = """query($filter: CampaignFilter) {
  campaigns(first: 10, filter: $filter) { edges { node { code counts { likes } } } }
}"""
SERIES = """query($id: ID!, $since: Date!, $until: Date!) {
  node(id: $id) { ... on Campaign { dailyCounts(since: $since, until: $until) {
    day views likes enrolments } } }
}"""
NOON = datetime(2026, 12, 7, 12, tzinfo=UTC)


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    given = {"title": "Spring", "code": "spring", "type": "PROMOTION", **fields}
    payload: dict[str, Any] = (await api.graphql(CREATE, {"input": given}))["createCampaign"]
    return payload


async def transition(api: Api, campaign_id: str, event: str) -> dict[str, Any]:
    data = await api.graphql(TRANSITION, {"id": campaign_id, "event": event})
    payload: dict[str, Any] = data["transitionCampaign"]
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def test_marketing_runs_a_campaign_from_draft_to_active_with_its_counts(api: Api) -> None:
    marketing, _ = await colleague(api, Role.MARKETING)
    starts = datetime.now(UTC) - timedelta(hours=1)
    created = await create(
        marketing,
        title="Spring referral",
        code="Spring-27",
        type="REFERRAL",
        visibility="PUBLIC",
        startsAt=starts.isoformat(),
        endsAt=(starts + timedelta(days=30)).isoformat(),
        cost="1500.00",
        currency="eur",
        audience={"customers": {"tags": ["vip"]}},
        embedOrigins=["https://Shop.Example.com/"],
    )
    assert created["errors"] == []
    campaign = created["campaign"]
    assert {
        k: campaign[k] for k in ("code", "type", "visibility", "status", "cost", "currency")
    } == {
        "code": "Spring-27",
        "type": "REFERRAL",
        "visibility": "PUBLIC",
        "status": "DRAFT",
        "cost": "1500.00",
        "currency": "EUR",
    }
    assert campaign["audienceType"] == "customer"
    assert campaign["audience"] == {"tags": ["vip"]}
    assert campaign["embedOrigins"] == ["https://shop.example.com"]
    assert campaign["owner"] == {"name": "marketing"}
    assert campaign["allowedEvents"] == ["SUBMIT", "DISCARD"]
    campaign_id = campaign["id"]

    assert (await transition(marketing, campaign_id, "SUBMIT"))["errors"] == []
    unready = await transition(marketing, campaign_id, "ACTIVATE")
    assert codes(unready) == [("event", "GUARD_FAILED")]
    assert "a published template" in unready["errors"][0]["message"]

    assert (await create_template(api, key="spring-offer", kind="MARKETING"))["errors"] == []
    assert (await publish(api, "spring-offer"))["errors"] == []
    edited = await marketing.graphql(
        UPDATE, {"input": {"id": campaign_id, "templates": ["spring-offer"]}}
    )
    assert edited["updateCampaign"]["errors"] == []
    assert (await transition(marketing, campaign_id, "ACTIVATE")) == {
        "campaign": {"status": "ACTIVE"},
        "errors": [],
    }
    illegal = await transition(marketing, campaign_id, "SUBMIT")
    assert codes(illegal) == [("event", "INVALID_TRANSITION")]

    node_id = relay.GlobalID.from_id(campaign_id).node_id
    for _ in range(3):
        await count(UUID(node_id), CounterKind.LIKE, NOON)
    await count(UUID(node_id), CounterKind.VIEW, NOON + timedelta(days=1), units=7)
    listed = await api.graphql(LIST, {"filter": {"statusIn": ["ACTIVE"], "typeIn": ["REFERRAL"]}})
    assert listed["campaigns"]["edges"] == [{"node": {"code": "Spring-27", "counts": {"likes": 3}}}]
    series = await api.graphql(
        SERIES, {"id": campaign_id, "since": "2026-12-07", "until": "2026-12-09"}
    )
    assert series["node"]["dailyCounts"] == [
        {"day": "2026-12-07", "views": 0, "likes": 3, "enrolments": 0},
        {"day": "2026-12-08", "views": 7, "likes": 0, "enrolments": 0},
        {"day": "2026-12-09", "views": 0, "likes": 0, "enrolments": 0},
    ]

    events = await Event.filter(aggregate_type="campaign", aggregate_id=node_id).order_by("id")
    assert [e.type for e in events] == [
        "campaign.created",
        "campaign.transitioned",
        "campaign.updated",
        "campaign.transitioned",
    ]
    actions = await AuditEntry.filter(entity_type="campaign", entity_id=node_id).order_by("id")
    assert [a.action for a in actions] == [
        "create",
        "transition:submit",
        "update",
        "transition:activate",
    ]


async def test_each_person_lists_the_campaigns_their_visibility_shows_them(api: Api) -> None:
    marketing, _ = await colleague(api, Role.MARKETING)
    sales, _ = await colleague(api, Role.SALES_PERSON)
    assert (await create(marketing, code="secret"))["errors"] == []
    assert (await create(marketing, code="team", visibility="INTERNAL"))["errors"] == []
    own = await create(sales, code="mine", type="REFERRAL", visibility="INTERNAL")
    assert own["errors"] == []

    def listed(data: dict[str, Any]) -> list[str]:
        return sorted(edge["node"]["code"] for edge in data["campaigns"]["edges"])

    assert (await create(sales, code="mine-too"))["errors"] == []
    assert listed(await sales.graphql(LIST)) == ["mine", "mine-too", "team"]
    assert listed(await marketing.graphql(LIST)) == ["mine", "secret", "team"]
    assert listed(await api.graphql(LIST)) == ["mine", "mine-too", "secret", "team"]
    assert listed(await marketing.graphql(LIST, {"filter": {"search": "TEAM"}})) == ["team"]
    # Sales people change only their own; marketing changes any it sees.
    theirs = await marketing.graphql(LIST, {"filter": {"search": "team"}})
    assert theirs["campaigns"]["edges"]
    refused = await sales.graphql(UPDATE, {"input": {"id": own["campaign"]["id"], "code": "team"}})
    assert codes(refused["updateCampaign"]) == [("code", "CODE_TAKEN")]
    taken_by_marketing = await marketing.graphql(
        UPDATE, {"input": {"id": own["campaign"]["id"], "title": "Renamed by marketing"}}
    )
    assert taken_by_marketing["updateCampaign"]["errors"] == []


async def test_bad_input_is_refused_field_by_field(api: Api) -> None:
    refused = await create(
        api,
        code="no spaces/please",
        startsAt="2027-01-02T00:00:00Z",
        endsAt="2027-01-01T00:00:00Z",
        embedOrigins=["http://insecure.example.com", "https://ok.example.com/path"],
        cost="10",
        currency="EUO",
        templates=["missing"],
    )
    assert sorted(codes(refused)) == [
        ("code", "INVALID_CODE"),
        ("currency", "INVALID_CURRENCY"),
        ("embedOrigins.0", "INVALID_ORIGIN"),
        ("embedOrigins.1", "INVALID_ORIGIN"),
    ]
    assert codes(await create(api, code="x" * 41)) == [("code", "INVALID_CODE")]
    assert codes(await create(api, templates=["missing"])) == [("templates", "TEMPLATE_NOT_FOUND")]
    backwards = await create(api, startsAt="2027-01-02T00:00:00Z", endsAt="2027-01-01T00:00:00Z")
    assert codes(backwards) == [("endsAt", "INVALID_PERIOD")]
    discarded = await create(api, code="gone")
    gone_id = discarded["campaign"]["id"]
    assert (await transition(api, gone_id, "DISCARD"))["errors"] == []
    assert codes(await transition(api, gone_id, "SUBMIT")) == [("event", "INVALID_TRANSITION")]
    edit = await api.graphql(UPDATE, {"input": {"id": gone_id, "title": "Back"}})
    assert codes(edit["updateCampaign"]) == [("id", "DISCARDED")]


SHARE = f"""mutation($input: ShareCampaignInput!) {{
  shareCampaign(input: $input) {{
    queued withoutAddress broadcast {{ id recordType audience }} {ERRORS}
  }}
}}"""


async def a_contact(api: Api, name: str, tags: list[str], email: bool = True) -> str:
    emails = [f"{name.lower()}@example.com"] if email else []
    return await api.created(
        "CreateContactInput",
        "createContact",
        "contact",
        {"firstName": name, "emails": emails, "tags": tags},
    )


async def test_marketing_shares_a_promotion_with_chosen_people_and_its_audience_who_consented(
    api: Api, sending: Flows, smtp_server: SmtpServer
) -> None:
    assert (await create_template(api, key="offer", kind="MARKETING"))["errors"] == []
    assert (await publish(api, "offer"))["errors"] == []
    marketing, _ = await colleague(api, Role.MARKETING)
    sales, _ = await colleague(api, Role.SALES_PERSON)
    ada = await a_contact(api, "Ada", ["vip"])
    grace = await a_contact(api, "Grace", ["vip"])
    linus = await a_contact(api, "Linus", [], email=False)
    await a_contact(api, "Mia", ["vip"])
    await update_preferences(
        sending.actor, "contact", UUID(relay.GlobalID.from_id(grace).node_id), {"receives": []}
    )
    created = await create(marketing, templates=["offer"], audience={"contacts": {"tags": ["vip"]}})
    campaign_id = created["campaign"]["id"]
    share = {"id": campaign_id, "template": "offer", "recipients": [ada, grace, linus]}
    draft = await marketing.graphql(SHARE, {"input": share})
    assert codes(draft["shareCampaign"]) == [("id", "INVALID_STATE")]
    assert (await transition(marketing, campaign_id, "SUBMIT"))["errors"] == []
    refused = await sales.graphql(SHARE, {"input": share})
    assert codes(refused["shareCampaign"]) == [(None, "FORBIDDEN")]
    not_its_own = await marketing.graphql(SHARE, {"input": {**share, "template": "welcome"}})
    assert codes(not_its_own["shareCampaign"]) == [("template", "TEMPLATE_NOT_FOUND")]

    shared = await marketing.graphql(SHARE, {"input": {**share, "toAudience": True}})
    payload = shared["shareCampaign"]
    assert payload["errors"] == []
    assert (payload["queued"], payload["withoutAddress"]) == (2, 1)
    assert payload["broadcast"]["audience"] == {"tags": ["vip"]}

    await sending.relay_all()
    node_id = relay.GlobalID.from_id(campaign_id).node_id
    queued = await Message.filter(source=f"campaign:{node_id}").order_by("id")
    broadcast_id = relay.GlobalID.from_id(payload["broadcast"]["id"]).node_id
    handles = [
        sending.client.get_workflow_handle(f"message-{sending.agency_id}-{m.id}")
        for m in queued
        if m.recipients
    ] + [sending.client.get_workflow_handle(f"broadcast-{sending.agency_id}-{broadcast_id}")]
    async with sending.worker():
        for handle in handles:
            await sending.result(handle)

    received = Counter(a for m in smtp_server.messages for a in m.rcpt_tos)
    assert received == Counter({"ada@example.com": 2, "mia@example.com": 1})
    assert all(m.message["List-Unsubscribe"] for m in smtp_server.messages)
    skipped = await Message.get(
        source=f"campaign:{node_id}", record_id=relay.GlobalID.from_id(grace).node_id
    )
    assert skipped.status == "skipped"
    [event] = await Event.filter(type="campaign.shared", aggregate_id=node_id)
    assert (event.payload["recipients"], event.payload["queued"]) == (3, 2)


ROI = """query($id: ID!) { node(id: $id) { ... on Campaign { roi {
  contacts leads wonDeals wonAmounts { amount currency } cost currency wonAmount returnOnCost
} } } }"""


async def won_deal(actor: Actor, contact: UUID, amount: str, currency: str) -> None:
    deal = await deals.create_deal(
        actor,
        {
            "name": "Deal",
            "expected_close_date": "2030-01-01",
            "contact_id": contact,
            "amount": amount,
            "currency": currency,
        },
    )
    [won] = await Stage.filter(pipeline_id=deal.pipeline_id, kind="won")
    await deals.move_deal(actor, deal.id, {"stage_id": won.id})


async def test_the_roi_counts_what_attributed_contacts_brought_against_the_cost(api: Api) -> None:
    system = await acme_system()
    created = await create(api, cost="1000.00", currency="EUR")
    campaign_id = created["campaign"]["id"]
    campaign = UUID(relay.GlobalID.from_id(campaign_id).node_id)

    async def person(name: str, attributed: bool) -> UUID:
        found = await contacts.create_contact(system, {"first_name": name})
        if attributed:
            await CampaignAttribution.create(
                agency_id=system.agency_id, campaign_id=campaign, contact_id=found.id
            )
        return found.id

    ada, bob, cy = await person("Ada", True), await person("Bob", True), await person("Cy", False)
    lead = await leads.create_lead(
        system, {"title": "Site", "services": ["SEO"], "contact_id": ada}
    )
    await leads.transition_lead(system, lead.id, "qualify")
    _, from_lead = await leads.convert_lead(system, lead.id, {"amount": "3000", "currency": "EUR"})
    [won] = await Stage.filter(pipeline_id=from_lead.pipeline_id, kind="won")
    await deals.move_deal(system, from_lead.id, {"stage_id": won.id})
    await won_deal(system, bob, "250.50", "USD")
    await won_deal(system, cy, "9999", "EUR")  # not brought by the campaign
    await leads.create_lead(system, {"title": "Other", "contact_id": cy})

    roi = (await api.graphql(ROI, {"id": campaign_id}))["node"]["roi"]
    assert roi == {
        "contacts": 2,
        "leads": 1,
        "wonDeals": 2,
        "wonAmounts": [
            {"amount": "3000.00", "currency": "EUR"},
            {"amount": "250.50", "currency": "USD"},
        ],
        "cost": "1000.00",
        "currency": "EUR",
        "wonAmount": "3000.00",
        "returnOnCost": "2.0000",
    }


PAGE = """query($first: Int!) {
  campaigns(first: $first) { edges { node {
    code owner { name } counts { views likes } roi { contacts wonDeals returnOnCost }
  } } }
}"""


async def test_a_page_of_campaigns_with_counts_and_roi_costs_a_constant_number_of_statements(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    system = await acme_system()
    for i in range(12):
        created = await create(api, code=f"c{i}", cost="10", currency="EUR")
        campaign = UUID(relay.GlobalID.from_id(created["campaign"]["id"]).node_id)
        await count(campaign, CounterKind.VIEW, NOON)
        contact = await contacts.create_contact(system, {"first_name": f"P{i}"})
        await CampaignAttribution.create(
            agency_id=system.agency_id, campaign_id=campaign, contact_id=contact.id
        )

    async def statements(first: int) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            data = await api.graphql(PAGE, {"first": first})
        nodes = [edge["node"] for edge in data["campaigns"]["edges"]]
        assert len(nodes) == first
        assert all(n["counts"]["views"] == 1 and n["roi"]["contacts"] == 1 for n in nodes)
        return sum(1 for record in caplog.records if record.name == "tortoise.db_client")

    small, large = await statements(2), await statements(12)
    assert small == large, f"{small} statements for 2 campaigns, {large} for 12"


async def test_paging_by_start_keeps_campaigns_without_a_period_last_in_either_direction(
    api: Api,
) -> None:
    for day in (3, 1, 2):
        start = NOON + timedelta(days=day)
        dated = await create(
            api,
            code=f"dated-{day}",
            startsAt=start.isoformat(),
            endsAt=(start + timedelta(days=1)).isoformat(),
        )
        assert dated["errors"] == []
    for n in range(3):
        assert (await create(api, code=f"undated-{n}"))["errors"] == []

    async def every_page(direction: str) -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            data = await api.graphql(
                """query($after: String, $direction: OrderDirection!) {
                  campaigns(first: 2, after: $after,
                            orderBy: {field: STARTS_AT, direction: $direction}) {
                    edges { node { code } } pageInfo { hasNextPage endCursor } } }""",
                {"after": after, "direction": direction},
            )
            page = data["campaigns"]
            seen += [edge["node"]["code"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return seen
            after = page["pageInfo"]["endCursor"]

    ascending = await every_page("ASC")
    assert ascending[:3] == ["dated-1", "dated-2", "dated-3"]
    assert sorted(ascending[3:]) == ["undated-0", "undated-1", "undated-2"]
    descending = await every_page("DESC")
    assert descending[:3] == ["dated-3", "dated-2", "dated-1"]
    assert sorted(descending[3:]) == ["undated-0", "undated-1", "undated-2"]
