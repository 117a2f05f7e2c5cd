"""The dashboards' figures built on the deals' stage history, competitors, campaigns, emails,
the event log and imports: each computed again here from generated records and compared with
the GraphQL answer, for an admin, a sales head (team scope) and a sales person (own scope),
with team, owner and currency filters, on SQLite and PostgreSQL. And the history itself, as
the deal service writes it."""

from __future__ import annotations

import csv
import io
import logging
import random
import statistics
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from strawberry import relay

from db.campaigns import Campaign, CampaignAttribution
from db.customers import Customer
from db.deal_stage_changes import DealStageChange
from db.deals import Deal
from db.events import Event
from db.imports import RecordImport
from db.leads import Lead
from db.messages import Message
from db.pipelines import Stage
from db.users import User
from db.webhooks import WebhookDelivery
from domain.deal_stage_changes import stage_history
from tests.e2e.colleagues import PASSWORD, acme_system
from tests.e2e.conftest import Api
from tests.e2e.test_dashboards_api import (
    CENT,
    FIGURE,
    RATIO,
    Records,
    _moment,
    _q,
    assert_same,
    figure,
    generate,
    generate_operations,
    gid,
    in_period,
    period,
    ratio_figure,
)
from tests.e2e.test_deals_api import create, move, stages

HEAD = f"""
query($filter: DashboardFilterInput!) {{
  salesHeadDashboard(filter: $filter) {{
    stageConversion {{
      stageId stageName entered reachedNext reachedLater nextRate laterRate
    }}
    timeInStage {{ stageId stageName stays averageDays medianDays }}
    stageEntries {FIGURE} stageAdvanceRate {FIGURE} daysInStage {FIGURE}
    competitors {{
      competitor wonDeals wonAmount lostDeals lostAmount lostToDeals lostToAmount
    }}
    leadCampaigns {{ campaignId campaignTitle leads converted wonDeals wonAmount }}
  }}
}}"""
SALES = f"""
query($filter: DashboardFilterInput!) {{
  salesDashboard(filter: $filter) {{
    emailsSent {FIGURE} activities {FIGURE} callsDone {FIGURE} meetings {FIGURE}
  }}
}}"""
SYSADMIN = """
query($filter: DashboardFilterInput!) {
  sysadminDashboard(filter: $filter) {
    eventLag {
      latestEventId webhooksNotStarted webhooksUnfinished webhookOldestUnfinishedSeconds
      webhookEventsBehind
    }
    imports {
      importId fileName recordType status totalRows doneRows created updated skipped failed
    }
  }
}"""
COMPETITORS = ["Acme Ads", "Bolt", "Cirrus"]
LOSE = """
mutation($input: MoveDealInput!) {
  moveDeal(input: $input) { deal { lostTo competitors } errors { field code } }
}"""
Owners = set[uuid.UUID] | set[uuid.UUID | None]


@dataclass
class Entry:
    """One generated stage history row."""

    deal: Deal
    to_stage_id: uuid.UUID
    at: datetime
    left_at: datetime | None = None
    index: int = 0  # its place in the deal's history
    reached_next: bool = False  # as the deal service marks it when the deal moves on
    reached_later: bool = False


def _later_stages(stages: dict[uuid.UUID, Stage], stage: Stage) -> list[Stage]:
    """The stages after `stage` by position, lost ones skipped: the first is its next."""
    in_order = sorted(stages.values(), key=lambda s: (s.position, str(s.id)))
    return [s for s in in_order if s.kind != "lost" and s.position > stage.position]


def _reached(history: list[Entry], entry: Entry, targets: list[Stage]) -> bool:
    ids = {s.id for s in targets}
    return any(e.to_stage_id in ids for e in history[entry.index + 1 :])


@dataclass
class More:
    entries: list[Entry] = field(default_factory=list)
    campaigns: dict[uuid.UUID, str] = field(default_factory=dict)
    # contact -> [(campaign, attributed at)]
    attributions: dict[uuid.UUID, list[tuple[uuid.UUID, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    messages: list[Message] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)


async def generate_more(records: Records, seed: int = 18) -> More:
    """Stage histories, competitors, contacts on deals and leads, campaigns with sign-ups, and
    emails, over the records `generate` made."""
    rng = random.Random(seed)
    agency = (await acme_system()).agency_id
    more = More()
    stage_ids = list(records.stages)
    for deal in records.deals:
        at = deal.created_at
        for index in range(rng.randrange(1, 6)):
            if more.entries and more.entries[-1].deal is deal:
                more.entries[-1].left_at = at
            more.entries.append(Entry(deal, rng.choice(stage_ids), at, index=index))
            at = at + timedelta(days=rng.randrange(0, 40), minutes=rng.randrange(1, 1440))
        deal.competitors = rng.sample(COMPETITORS, rng.randrange(0, 3))
        deal.contact_id = rng.choice(records.contacts).id if rng.random() < 0.5 else None
        if deal.status == "lost" and deal.competitors and rng.random() < 0.7:
            deal.lost_to = rng.choice(deal.competitors)
        await Deal.filter(id=deal.id).update(
            competitors=deal.competitors, contact_id=deal.contact_id, lost_to=deal.lost_to
        )
    histories: dict[uuid.UUID, list[Entry]] = defaultdict(list)
    for entry in more.entries:
        histories[entry.deal.id].append(entry)
    for entry in more.entries:
        after = _later_stages(records.stages, records.stages[entry.to_stage_id])
        entry.reached_next = _reached(histories[entry.deal.id], entry, after[:1])
        entry.reached_later = _reached(histories[entry.deal.id], entry, after)
    await DealStageChange.bulk_create(
        [
            DealStageChange(
                agency_id=agency,
                deal_id=e.deal.id,
                pipeline_id=e.deal.pipeline_id,
                to_stage_id=e.to_stage_id,
                changed_by="test",
                changed_at=e.at,
                left_at=e.left_at,
                reached_next=e.reached_next,
                reached_later=e.reached_later,
            )
            for e in more.entries
        ]
    )
    # The ids follow each deal's history (what "later" means).
    stored = (
        await DealStageChange.filter(agency_id=agency)
        .order_by("id")
        .values_list("deal_id", flat=True)
    )
    assert [uuid.UUID(str(d)) for d in stored] == [e.deal.id for e in more.entries]

    for index in range(2):
        campaign = await Campaign.create(
            agency_id=agency,
            title=f"Spring {index}",
            code=f"spring-{index}",
            campaign_type="event",
            owner_id=records.users["head"],
            created_by="test",
        )
        more.campaigns[campaign.id] = campaign.title
        for contact in rng.sample(records.contacts, 12):
            signed_up = _moment(rng) - timedelta(days=60)
            await CampaignAttribution.create(
                agency_id=agency, campaign_id=campaign.id, contact_id=contact.id
            )
            await CampaignAttribution.filter(campaign_id=campaign.id, contact_id=contact.id).update(
                created_at=signed_up
            )
            more.attributions[contact.id].append((campaign.id, signed_up))
    for lead in records.leads:
        lead.contact_id = rng.choice(records.contacts).id if rng.random() < 0.7 else None
        await Lead.filter(id=lead.id).update(contact_id=lead.contact_id)

    owners: list[uuid.UUID | None] = [*records.users.values(), None]
    for index in range(4):
        customer = await Customer.create(
            agency_id=agency, name=f"Customer {index}", owner_id=rng.choice(owners)
        )
        more.customers.append(customer)
    targets: list[tuple[str, uuid.UUID]] = [
        *(("contact", c.id) for c in records.contacts),
        *(("customer", c.id) for c in more.customers),
    ]
    for index in range(60):
        record_type, record_id = rng.choice(targets)
        more.messages.append(
            Message(
                agency_id=agency,
                record_type=record_type,
                record_id=str(record_id),
                kind="sales",
                subject=f"Hello {index}",
                text_body="Hello",
                status=rng.choice(["sent", "sent", "failed", "queued"]),
                idempotency_key=f"test:{index}",
                source=rng.choice(["user:x", "flow:nurture", "broadcast:b:2026-01-01"]),
                created_by="test",
                sent_at=_moment(rng),
            )
        )
    await Message.bulk_create(more.messages)
    return more


# What the figures should be, from the generated rows.


def _days(seconds: float) -> Decimal:
    return Decimal(str(seconds)) / 86400


def _deals_of(records: Records, owners: Owners, currency: str | None) -> set[uuid.UUID]:
    return {
        d.id
        for d in records.deals
        if d.deleted_at is None and d.owner_id in owners and currency in (None, d.currency)
    }


def stage_expected(
    records: Records, more: More, owners: Owners, bucket: str, currency: str | None = None
) -> dict[str, Any]:
    stages = records.stages

    def later(stage: Stage) -> list[Stage]:
        return _later_stages(stages, stage)

    scoped = _deals_of(records, owners, currency)
    history: dict[uuid.UUID, list[Entry]] = defaultdict(list)
    for entry in more.entries:
        history[entry.deal.id].append(entry)
    opened = [
        e for e in more.entries if e.deal.id in scoped and stages[e.to_stage_id].kind == "open"
    ]
    entries = [e for e in opened if in_period(e.at)]

    def reached(entry: Entry, targets: list[Stage]) -> bool:
        return _reached(history[entry.deal.id], entry, targets)

    def next_of(entry: Entry) -> list[Stage]:
        return later(stages[entry.to_stage_id])[:1]

    by_stage: dict[uuid.UUID, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_stage[entry.to_stage_id].append(entry)
    conversions = []
    for stage_id, group in by_stage.items():
        next_n = sum(reached(e, next_of(e)) for e in group)
        later_n = sum(reached(e, later(stages[stage_id])) for e in group)
        conversions.append(
            {
                "stageId": gid("Stage", stage_id),
                "stageName": stages[stage_id].name,
                "entered": len(group),
                "reachedNext": next_n,
                "reachedLater": later_n,
                "nextRate": _q(Decimal(next_n) / len(group), RATIO),
                "laterRate": _q(Decimal(later_n) / len(group), RATIO),
            }
        )
    stays = [e for e in opened if e.left_at is not None and in_period(e.left_at)]

    def length(e: Entry) -> Decimal:
        assert e.left_at is not None
        return _days((e.left_at - e.at).total_seconds())

    stays_by_stage: dict[uuid.UUID, list[Decimal]] = defaultdict(list)
    for stay in stays:
        stays_by_stage[stay.to_stage_id].append(length(stay))
    at: Callable[[Entry], Any] = lambda e: e.at  # noqa: E731
    left: Callable[[Entry], Any] = lambda e: e.left_at  # noqa: E731
    stage_entries = figure(entries, at, bucket)
    advanced = figure([e for e in entries if reached(e, next_of(e))], at, bucket)
    summed = figure(stays, left, bucket, length)
    return {
        "stageConversion": conversions,
        "timeInStage": [
            {
                "stageId": gid("Stage", stage_id),
                "stageName": stages[stage_id].name,
                "stays": len(days),
                "averageDays": _q(sum(days, Decimal(0)) / len(days)),
                "medianDays": _q(statistics.median(days)),
            }
            for stage_id, days in stays_by_stage.items()
        ],
        "stageEntries": stage_entries,
        "stageAdvanceRate": ratio_figure(advanced, stage_entries, RATIO),
        "daysInStage": ratio_figure(summed, figure(stays, left, bucket), CENT),
    }


def outcomes_expected(
    records: Records, more: More, owners: Owners, currency: str | None = None
) -> dict[str, Any]:
    scoped = _deals_of(records, owners, currency)
    closed = [
        d
        for d in records.deals
        if d.id in scoped and d.status in ("won", "lost") and in_period(d.closed_at)
    ]
    competitors: dict[str, dict[str, list[Deal]]] = defaultdict(lambda: defaultdict(list))
    for deal in closed:
        for name in deal.competitors:
            competitors[name][deal.status].append(deal)
        if deal.status == "lost" and deal.lost_to:
            competitors[deal.lost_to]["lost_to"].append(deal)

    def amount(deals: list[Deal]) -> str:
        return _q(sum((d.amount for d in deals), Decimal(0)))

    def campaigns_of(contact_id: uuid.UUID | None, moment: datetime) -> set[uuid.UUID]:
        pairs = more.attributions.get(contact_id, []) if contact_id else []
        return {campaign for campaign, since in pairs if moment >= since}

    counts: dict[uuid.UUID, list[Any]] = defaultdict(lambda: [0, 0, []])
    for lead in records.leads:
        if lead.deleted_at is None and lead.owner_id in owners and in_period(lead.created_at):
            for campaign in campaigns_of(lead.contact_id, lead.created_at):
                counts[campaign][0] += 1
                counts[campaign][1] += lead.status == "converted"
    leads = {lead.id: lead for lead in records.leads if lead.deleted_at is None}
    for deal in closed:
        if deal.status != "won":
            continue
        campaigns = campaigns_of(deal.contact_id, deal.created_at)
        if deal.lead_id in leads:
            origin = leads[deal.lead_id]
            campaigns |= campaigns_of(origin.contact_id, origin.created_at)
        for campaign in campaigns:
            counts[campaign][2].append(deal)
    return {
        "competitors": [
            {
                "competitor": name,
                "wonDeals": len(by["won"]),
                "wonAmount": amount(by["won"]),
                "lostDeals": len(by["lost"]),
                "lostAmount": amount(by["lost"]),
                "lostToDeals": len(by["lost_to"]),
                "lostToAmount": amount(by["lost_to"]),
            }
            for name, by in competitors.items()
        ],
        "leadCampaigns": [
            {
                "campaignId": gid("Campaign", campaign),
                "campaignTitle": more.campaigns[campaign],
                "leads": leads_n,
                "converted": converted,
                "wonDeals": len(won),
                "wonAmount": amount(won),
            }
            for campaign, (leads_n, converted, won) in counts.items()
        ],
    }


def emails_expected(
    records: Records, more: More, owners: Owners, bucket: str, answer: dict[str, Any]
) -> dict[str, Any]:
    owner_of = {
        **{("contact", str(c.id)): c.owner_id for c in records.contacts},
        **{("customer", str(c.id)): c.owner_id for c in more.customers},
    }
    sent = [
        m
        for m in more.messages
        if m.status == "sent"
        and not m.source.startswith("broadcast:")
        and owner_of[(m.record_type, m.record_id)] in owners
        and in_period(m.sent_at)
    ]
    emails = figure(sent, lambda m: m.sent_at, bucket)

    def add(*figures: dict[str, Any]) -> dict[str, Any]:
        return {
            "value": str(sum(Decimal(f["value"]) for f in figures)),
            "series": [
                {
                    "start": points[0]["start"],
                    "value": str(sum(Decimal(p["value"]) for p in points)),
                }
                for points in zip(*(f["series"] for f in figures), strict=True)
            ],
        }

    # Calls and meetings are proved by test_dashboards_api: here, that activities add up.
    return {
        "emailsSent": emails,
        "activities": add(answer["callsDone"], answer["meetings"], emails),
    }


async def test_stage_competitor_campaign_and_email_figures_match_the_records(api: Api) -> None:
    records = await generate()
    more = await generate_more(records)
    users = records.users
    everyone: set[uuid.UUID | None] = {*users.values(), None}
    north = {users["head"], users["north1"], users["north2"]}

    async def check(caller: Api, owners: Owners, bucket: str, **narrowed: Any) -> None:
        currency = narrowed.get("currency")
        head = (await caller.graphql(HEAD, period(bucket, **narrowed)))["salesHeadDashboard"]
        assert_same(head, stage_expected(records, more, owners, bucket, currency))
        assert_same(head, outcomes_expected(records, more, owners, currency))
        sales = (await caller.graphql(SALES, period(bucket, **narrowed)))["salesDashboard"]
        assert_same(sales, emails_expected(records, more, owners, bucket, sales))

    await check(api, everyone, "WEEK")
    await check(api, north, "MONTH", teamId=gid("OrgUnit", records.north), currency="EUR")
    head = await api.sign_in("head@acme.example.com", PASSWORD)
    await check(head, north, "MONTH")
    north1 = await head.sign_in("north1@acme.example.com", PASSWORD)
    await check(north1, {users["north1"]}, "DAY")
    # A sales person asking for a colleague's figures gets nothing.
    await check(north1, set(), "MONTH", ownerId=gid("User", users["south1"]))
    # Somebody's figures: the admin narrows to one owner.
    await check(api, {users["north2"]}, "WEEK", ownerId=gid("User", users["north2"]))
    # The numbers are not all zero (the generator reaches every branch).
    data = (await api.graphql(HEAD, period("MONTH")))["salesHeadDashboard"]
    assert sum(c["reachedNext"] for c in data["stageConversion"]) > 0, data
    assert any(c["reachedLater"] > c["reachedNext"] for c in data["stageConversion"]), data
    assert {c["competitor"] for c in data["competitors"]} == set(COMPETITORS), data
    assert sum(c["lostToDeals"] for c in data["competitors"]) > 0, data
    assert sum(c["wonDeals"] for c in data["leadCampaigns"]) > 0, data
    assert sum(c["leads"] for c in data["leadCampaigns"]) > 0, data
    sales = (await api.graphql(SALES, period("MONTH")))["salesDashboard"]
    assert Decimal(sales["emailsSent"]["value"]) > 0, sales


WITHOUT_STAGES = """
query($filter: DashboardFilterInput!) {
  salesHeadDashboard(filter: $filter) { winRate { value } competitors { competitor } }
}"""
STAGES_IN_A_FRAGMENT = """
query($filter: DashboardFilterInput!) {
  salesHeadDashboard(filter: $filter) { winRate { value } ...Flow }
}
fragment Flow on SalesHeadDashboard { stageConversion { stageName entered } }"""


async def test_the_stage_history_is_read_only_for_a_query_that_selects_a_figure_of_it(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    records = await generate()
    await generate_more(records)

    async def history_statements(document: str) -> tuple[int, dict[str, Any]]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            data = (await api.graphql(document, period("MONTH")))["salesHeadDashboard"]
        read = [r for r in caplog.records if "deal_stage_change" in r.getMessage()]
        return len(read), data

    skipped, _ = await history_statements(WITHOUT_STAGES)
    assert skipped == 0
    read, data = await history_statements(STAGES_IN_A_FRAGMENT)
    assert read > 0
    # The same figures as the whole dashboard's (checked against the records above).
    whole = (await api.graphql(HEAD, period("MONTH")))["salesHeadDashboard"]["stageConversion"]
    assert data["stageConversion"] == [
        {"stageName": c["stageName"], "entered": c["entered"]} for c in whole
    ]
    assert sum(c["entered"] for c in whole) > 0


async def test_event_lag_and_import_progress_match_the_records(api: Api) -> None:
    records = await generate()
    made = await generate_operations(records)
    agency = (await acme_system()).agency_id
    admin = await User.get(email="admin@acme.example.com")
    long_ago = datetime(2025, 6, 1, tzinfo=UTC)
    imports = []
    for name, status, created, total, next_row in (
        ("running.csv", "running", long_ago, 500, 201),
        ("done.csv", "completed", datetime(2026, 3, 2, tzinfo=UTC), 40, 41),
        ("old.csv", "completed", long_ago, 10, 11),
        ("waiting.xlsx", "uploaded", datetime(2026, 5, 5, tzinfo=UTC), 7, 1),
    ):
        found = await RecordImport.create(
            agency_id=agency,
            created_by=f"user:{admin.id}",
            owner_id=admin.id,
            record_type="contact",
            file_name=name,
            file_format=name.rsplit(".", 1)[1],
            storage_key=f"imports/{name}",
            size=100,
            status=status,
            total_rows=total,
            next_row=next_row,
            created=next_row - 1,
        )
        await RecordImport.filter(id=found.id).update(created_at=created)
        imports.append((found, created))
    events = await Event.filter(agency_id=agency).values_list("id", flat=True)
    unfinished = [d for d in made["deliveries"] if d.status in ("pending", "delivering")]
    first_event = min(d.event_id for d in unfinished)
    oldest = min(d.created_at for d in unfinished)

    data = (await api.graphql(SYSADMIN, period("MONTH")))["sysadminDashboard"]
    lag = data["eventLag"]
    age = lag.pop("webhookOldestUnfinishedSeconds")
    assert lag == {
        "latestEventId": max(events),
        "webhooksNotStarted": sum(1 for d in unfinished if d.status == "pending"),
        "webhooksUnfinished": len(unfinished),
        "webhookEventsBehind": sum(1 for event in events if event >= first_event),
    }
    expected_age = (datetime.now(UTC) - oldest).total_seconds()
    assert expected_age - 60 <= age <= expected_age + 1, (age, expected_age)
    assert data["imports"] == [
        {
            "importId": str(relay.GlobalID("RecordImport", str(found.id))),
            "fileName": found.file_name,
            "recordType": "contact",
            "status": found.status,
            "totalRows": found.total_rows,
            "doneRows": found.next_row - 1,
            "created": found.next_row - 1,
            "updated": 0,
            "skipped": 0,
            "failed": 0,
        }
        for found, created in sorted(imports, key=lambda pair: pair[1], reverse=True)
        if found.status == "running" or in_period(created)
    ]
    # The report has them too, a row each.
    report = await api.client.get(
        "/reports/sysadmin.csv",
        params={"from": "2026-01-01", "to": "2026-06-30"},
        headers=api.headers(),
    )
    rows = {(r[0], r[1]): r[3] for r in csv.reader(io.StringIO(report.text))}
    assert rows[("event_lag.webhooks_unfinished", "")] == str(len(unfinished)), report.text
    running = f"import_id={imports[0][0].id}; file_name=running.csv; record_type=contact; "
    assert rows[("imports.done_rows", running + "status=running")] == "200", report.text
    # Nothing left: no lag.
    await WebhookDelivery.filter(agency_id=agency).update(status="delivered")
    lag = (await api.graphql(SYSADMIN, period("MONTH")))["sysadminDashboard"]["eventLag"]
    assert (lag["webhooksUnfinished"], lag["webhookEventsBehind"]) == (0, 0), lag
    assert lag["webhookOldestUnfinishedSeconds"] == 0, lag


async def test_deals_keep_their_stage_history_as_they_move(api: Api) -> None:
    by_name = await stages(api)
    deal = await create(api, competitors=["Acme Ads"])
    deal_id = uuid.UUID(relay.GlobalID.from_id(deal["id"]).node_id)
    # Forward, back, and a jump over a stage.
    for name, reason in (("Qualification", ""), ("Prospecting", ""), ("Proposal", "")):
        payload = await move(api, deal["id"], by_name[name], reason)
        assert payload["errors"] == [], payload
    # Only a deal being lost goes to a competitor; one it did not name joins its competitors.
    lose = {"id": deal["id"], "stageId": by_name["Negotiation"], "lostTo": "Bolt"}
    refused = (await api.graphql(LOSE, {"input": lose}))["moveDeal"]
    assert refused["errors"] == [{"field": "lostTo", "code": "INVALID"}], refused
    lose = {**lose, "stageId": by_name["Closed Lost"], "reason": "price", "lostTo": " Bolt "}
    lost = (await api.graphql(LOSE, {"input": lose}))["moveDeal"]
    assert lost == {"deal": {"lostTo": "Bolt", "competitors": ["Acme Ads", "Bolt"]}, "errors": []}
    # A refused move leaves no trace.
    refused = await move(api, deal["id"], by_name["Closed Lost"])
    assert refused["errors"], refused
    stage_ids = {name: uuid.UUID(relay.GlobalID.from_id(i).node_id) for name, i in by_name.items()}
    history = await stage_history(deal_id)
    names = {v: k for k, v in stage_ids.items()}
    me = (await api.graphql("{ me { id } }"))["me"]["id"]
    me_id = relay.GlobalID.from_id(me).node_id
    assert [(names.get(row["from_stage_id"]), names[row["to_stage_id"]]) for row in history] == [
        (None, "Prospecting"),
        ("Prospecting", "Qualification"),
        ("Qualification", "Prospecting"),
        ("Prospecting", "Proposal"),
        ("Proposal", "Closed Lost"),
    ]
    # Went on to the next stage, to a later one: the first entry into Prospecting reached
    # Qualification; the second only jumped to Proposal; losing is no step forward.
    assert [(row["reached_next"], row["reached_later"]) for row in history] == [
        (True, True),
        (True, True),
        (False, True),
        (False, False),
        (False, False),
    ]
    assert {row["changed_by"] for row in history} == {f"user:{me_id}"}
    # Each stay ends when the next begins; the last is open; the lost one at the closing time.
    for stay, following in pairwise(history):
        assert stay["left_at"] == following["changed_at"]
    assert history[-1]["left_at"] is None
    stored = await Deal.get(id=deal_id)
    assert history[-1]["changed_at"] == stored.closed_at
    assert history[0]["changed_at"] == stored.created_at
