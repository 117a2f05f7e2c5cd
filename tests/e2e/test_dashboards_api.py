"""Dashboards over GraphQL/HTTP: every figure, and every point of its series, equals the same
figure counted here in Python from the generated records, for the viewer's row scope and the
period, team and owner filters."""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from openpyxl import load_workbook
from strawberry import relay

from db.broadcasts import Broadcast, BroadcastRun
from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.deals import Deal
from db.flow_runs import FlowRun
from db.leads import Lead
from db.meetings import Meeting
from db.outbox import OutboxMessage
from db.pipelines import Stage
from db.tickets import Ticket
from db.webhooks import WebhookDelivery, WebhookEndpoint
from domain import agencies, pipelines
from domain.roles import Role
from tests.e2e.colleagues import PASSWORD, acme_system, member
from tests.e2e.conftest import Api

FIGURE = "{ value series { start value } }"
SALES = f"""
query($filter: DashboardFilterInput!) {{
  salesDashboard(filter: $filter) {{
    openDeals {FIGURE} pipelineAmount {FIGURE} weightedPipeline {FIGURE}
    openDealsByStage {{ stageName probability deals amount weightedAmount ownerId }}
    callingTasksDueToday callingTasksOverdue callingTasksDue {FIGURE} callsDone {FIGURE}
    meetings {FIGURE} newContacts {FIGURE} convertedContacts {FIGURE}
    contactConversionRate {FIGURE}
  }}
}}"""
HEAD = f"""
query($filter: DashboardFilterInput!) {{
  salesHeadDashboard(filter: $filter) {{
    pipelineByStageAndOwner {{ stageName probability deals amount weightedAmount ownerId }}
    weightedForecast {FIGURE} wonDeals {FIGURE} lostDeals {FIGURE} wonAmount {FIGURE}
    winRate {FIGURE} averageDealSize {FIGURE} salesCycleDays {FIGURE} salesVelocity
    closeReasons {{ status reason deals amount }}
    revenueByOwner {{ ownerId ownerName wonDeals wonAmount share }}
    leadSources {{ source leads converted wonDeals wonAmount }}
  }}
}}"""
START, END = date(2026, 1, 1), date(2026, 6, 30)
CENT, RATIO = Decimal("0.01"), Decimal("0.0001")


def _q(value: Decimal, quantum: Decimal = CENT) -> str:
    return str(value.quantize(quantum, rounding=ROUND_HALF_UP))


def _per(part: Decimal, whole: Decimal, quantum: Decimal = RATIO) -> str:
    return _q(part / whole, quantum) if whole else "0"


@dataclass
class Records:
    """What the test generated, as plain rows (the deleted ones included)."""

    stages: dict[uuid.UUID, Stage]
    users: dict[str, uuid.UUID]
    names: dict[uuid.UUID, str]
    north: uuid.UUID
    deals: list[Deal] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    tasks: list[CallingTask] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    leads: list[Lead] = field(default_factory=list)


def _moment(rng: random.Random) -> datetime:
    """A time from a month before the period to a month after it."""
    day = date(2025, 12, 1) + timedelta(days=rng.randrange(245))
    return datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), UTC)


async def generate(seed: int = 16) -> Records:
    """Sales (North: a head and two people, South: one) and a few dozen of each record, their
    dates spread around the period, written straight to the tables."""
    rng = random.Random(seed)
    system = await acme_system()
    sales = await agencies.create_org_unit(system, "Sales", None)
    north = await agencies.create_org_unit(system, "North", sales.id)
    south = await agencies.create_org_unit(system, "South", sales.id)
    people = {
        "head": (Role.SALES_HEAD, north.id),
        "north1": (Role.SALES_PERSON, north.id),
        "north2": (Role.SALES_PERSON, north.id),
        "south1": (Role.SALES_PERSON, south.id),
    }
    users: dict[str, uuid.UUID] = {}
    for name, (role, unit) in people.items():
        users[name] = (await member(f"{name}@acme.example.com", role, org_unit_id=unit)).id
    pipeline = await pipelines.ensure_default_pipeline(system.agency_id)
    stages = {s.id: s for s in await Stage.filter(pipeline_id=pipeline.id)}
    records = Records(stages, users, {v: k for k, v in users.items()}, north.id)
    owners: list[uuid.UUID | None] = [*users.values(), None]
    agency = system.agency_id
    for index in range(60):
        stage = rng.choice(list(stages.values()))
        created = _moment(rng)
        closed = created + timedelta(days=rng.randrange(90), hours=rng.randrange(24))
        records.deals.append(
            Deal(
                id=uuid.uuid4(),
                agency_id=agency,
                name=f"Deal {index}",
                pipeline_id=pipeline.id,
                stage_id=stage.id,
                status=stage.kind,
                amount=Decimal(rng.randrange(100, 100000)) / 100,
                currency=rng.choice(["EUR", "EUR", "EUR", "USD"]),
                expected_close_date=_moment(rng).date(),
                close_reason=rng.choice(["price", "fit", ""]) if stage.kind != "open" else "",
                closed_at=closed if stage.kind != "open" else None,
                owner_id=rng.choice(owners),
                created_at=created,
                deleted_at=created if index % 13 == 0 else None,
            )
        )
    for index in range(30):
        records.contacts.append(
            Contact(
                id=uuid.uuid4(),
                agency_id=agency,
                first_name=f"Contact {index}",
                owner_id=rng.choice(owners),
                status=rng.choice(["new", "hot", "converted"]),
                created_at=_moment(rng),
            )
        )
    now = datetime.now(UTC)
    for index in range(30):
        due = _moment(rng) if index % 5 else now + timedelta(hours=rng.choice([-30, -1, 2]))
        records.tasks.append(
            CallingTask(
                id=uuid.uuid4(),
                agency_id=agency,
                subject=f"Call {index}",
                assignee_id=rng.choice(owners),
                status=rng.choice(["new", "scheduled", "done", "aborted"]),
                due_at=due,
                updated_at=_moment(rng),
            )
        )
    for index in range(20):
        start = _moment(rng)
        records.meetings.append(
            Meeting(
                id=uuid.uuid4(),
                agency_id=agency,
                owner_id=rng.choice(owners),
                contact_id=records.contacts[index].id,
                title=f"Meeting {index}",
                duration_minutes=30,
                starts_at=start,
                ends_at=start + timedelta(minutes=30),
                status=rng.choice(["proposed", "booked", "held", "cancelled"]),
            )
        )
    for index in range(20):
        records.leads.append(
            Lead(
                id=uuid.uuid4(),
                agency_id=agency,
                title=f"Lead {index}",
                services=[],
                owner_id=rng.choice(owners),
                source=rng.choice(["web", "referral", ""]),
                status=rng.choice(["new", "qualified", "converted"]),
                created_at=_moment(rng),
            )
        )
    # Two deals in three came from a lead (any lead: sources count whoever owns the lead).
    links = random.Random(seed + 1)
    for deal in records.deals:
        if links.random() < 0.66:
            deal.lead_id = links.choice(records.leads).id
    tables: list[tuple[Any, list[Any]]] = [
        (Deal, records.deals),
        (Contact, records.contacts),
        (CallingTask, records.tasks),
        (Meeting, records.meetings),
        (Lead, records.leads),
    ]
    for model, rows in tables:
        await model.bulk_create(rows)
        # The automatic timestamps are the database's own on insert: put the generated back.
        for row in rows:
            stamps = {
                name: getattr(row, name)
                for name in ("created_at", "updated_at")
                if name in model._meta.fields_map
            }
            await model.filter(id=row.id).update(**stamps)
    return records


# What the dashboards should say, counted from the generated rows.


def bucket_of(day: date, bucket: str) -> date:
    if bucket == "DAY":
        return day
    if bucket == "WEEK":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def buckets(bucket: str) -> list[date]:
    starts: list[date] = []
    day = START
    while day <= END:
        start = bucket_of(day, bucket)
        if start not in starts:
            starts.append(start)
        day += timedelta(days=1)
    return starts


def in_period(moment: datetime | date | None) -> bool:
    if moment is None:
        return False
    day = moment.date() if isinstance(moment, datetime) else moment
    return START <= day <= END


def _day(moment: datetime | date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def figure(
    rows: Iterable[Any],
    when: Callable[[Any], Any],
    bucket: str,
    value: Callable[[Any], Decimal] = lambda row: Decimal(1),
    money: bool = False,
) -> dict[str, Any]:
    totals: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[bucket_of(_day(when(row)), bucket)] += value(row)
    show = _q if money else (lambda v: str(v.normalize()) if v else "0")
    series = [{"start": s.isoformat(), "value": show(totals[s])} for s in buckets(bucket)]
    return {"value": show(sum(totals.values(), Decimal(0))), "series": series}


def ratio_figure(part: dict[str, Any], whole: dict[str, Any], quantum: Decimal) -> dict[str, Any]:
    return {
        "value": _per(Decimal(part["value"]), Decimal(whole["value"]), quantum),
        "series": [
            {"start": p["start"], "value": _per(Decimal(p["value"]), Decimal(w["value"]), quantum)}
            for p, w in zip(part["series"], whole["series"], strict=True)
        ],
    }


def gid(type_name: str, value: uuid.UUID | None) -> str | None:
    return str(relay.GlobalID(type_name, str(value))) if value else None


def by_stage(records: Records, deals: list[Deal], by_owner: bool) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[Deal]] = defaultdict(list)
    for deal in deals:
        groups[(deal.stage_id, deal.owner_id if by_owner else None)].append(deal)
    found = []
    for (stage_id, owner), group in groups.items():
        stage = records.stages[stage_id]
        amount = sum((d.amount for d in group), Decimal(0))
        found.append(
            {
                "stageName": stage.name,
                "probability": stage.probability,
                "deals": len(group),
                "amount": _q(amount),
                "weightedAmount": _q(amount * stage.probability / 100),
                "ownerId": gid("User", owner),
            }
        )
    return found


def _normal(value: Any) -> Any:
    """Decimal strings compared as numbers, lists of groups in any order."""
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        items = [_normal(item) for item in value]
        return sorted(items, key=repr) if items and isinstance(items[0], dict) else items
    if isinstance(value, str):
        try:
            return Decimal(value).normalize()
        except ArithmeticError:
            return value
    return value


def sales_expected(
    records: Records, owners: set[uuid.UUID] | set[uuid.UUID | None], bucket: str
) -> dict[str, Any]:
    def mine(row: Any, by: str = "owner_id") -> bool:
        return row.deleted_at is None and getattr(row, by) in owners

    pipeline = [
        d
        for d in records.deals
        if mine(d) and d.status == "open" and in_period(d.expected_close_date)
    ]
    close = lambda d: d.expected_close_date  # noqa: E731
    weighted = lambda d: d.amount * records.stages[d.stage_id].probability / 100  # noqa: E731
    tasks = [t for t in records.tasks if mine(t, "assignee_id")]
    waiting: list[Any] = [t for t in tasks if t.status in ("new", "scheduled")]
    now = datetime.now(UTC)
    contacts = [c for c in records.contacts if mine(c) and in_period(c.created_at)]
    created = lambda row: row.created_at  # noqa: E731
    new_contacts = figure(contacts, created, bucket)
    converted = figure([c for c in contacts if c.status == "converted"], created, bucket)
    return {
        "openDeals": figure(pipeline, close, bucket),
        "pipelineAmount": figure(pipeline, close, bucket, lambda d: d.amount, money=True),
        "weightedPipeline": figure(pipeline, close, bucket, weighted, money=True),
        "openDealsByStage": by_stage(records, pipeline, by_owner=False),
        "callingTasksDueToday": sum(1 for t in waiting if t.due_at.date() == now.date()),
        "callingTasksOverdue": sum(1 for t in waiting if t.due_at < now),
        "callingTasksDue": figure(
            [t for t in tasks if in_period(t.due_at)], lambda t: t.due_at, bucket
        ),
        "callsDone": figure(
            [t for t in tasks if t.status == "done" and in_period(t.updated_at)],
            lambda t: t.updated_at,
            bucket,
        ),
        "meetings": figure(
            [
                m
                for m in records.meetings
                if mine(m) and m.status in ("booked", "held") and in_period(m.starts_at)
            ],
            lambda m: m.starts_at,
            bucket,
        ),
        "newContacts": new_contacts,
        "convertedContacts": converted,
        "contactConversionRate": ratio_figure(converted, new_contacts, RATIO),
    }


def head_expected(
    records: Records,
    owners: set[uuid.UUID] | set[uuid.UUID | None],
    bucket: str,
    currency: str | None = None,
) -> dict[str, Any]:
    deals = [
        d
        for d in records.deals
        if d.deleted_at is None and d.owner_id in owners and currency in (None, d.currency)
    ]
    pipeline = [d for d in deals if d.status == "open" and in_period(d.expected_close_date)]
    won = [d for d in deals if d.status == "won" and in_period(d.closed_at)]
    lost = [d for d in deals if d.status == "lost" and in_period(d.closed_at)]
    closed_at = lambda d: d.closed_at  # noqa: E731
    won_deals, lost_deals = figure(won, closed_at, bucket), figure(lost, closed_at, bucket)
    won_amount = figure(won, closed_at, bucket, lambda d: d.amount, money=True)
    decided = figure(won + lost, closed_at, bucket)
    win_rate = ratio_figure(won_deals, decided, RATIO)
    average = ratio_figure(won_amount, won_deals, CENT)
    days = figure(
        won, closed_at, bucket, lambda d: Decimal((d.closed_at - d.created_at).total_seconds())
    )
    days = {
        "value": str(Decimal(days["value"]) / 86400),
        "series": [{**p, "value": str(Decimal(p["value"]) / 86400)} for p in days["series"]],
    }
    cycle = ratio_figure(days, won_deals, CENT)
    velocity = (
        _q(
            len(pipeline)
            * Decimal(win_rate["value"])
            * Decimal(average["value"])
            / Decimal(cycle["value"])
        )
        if Decimal(cycle["value"])
        else "0"
    )
    reasons: dict[tuple[str, str], list[Deal]] = defaultdict(list)
    for deal in won + lost:
        reasons[(deal.status, deal.close_reason)].append(deal)
    revenue: dict[uuid.UUID | None, list[Deal]] = defaultdict(list)
    for deal in won:
        revenue[deal.owner_id].append(deal)
    total_won = Decimal(won_amount["value"])
    sources: dict[str, list[Lead]] = defaultdict(list)
    for lead in records.leads:
        if lead.deleted_at is None and lead.owner_id in owners and in_period(lead.created_at):
            sources[lead.source].append(lead)
    source_of = {lead.id: lead.source for lead in records.leads}
    won_by_source: dict[str, list[Deal]] = defaultdict(list)
    for deal in won:
        if deal.lead_id in source_of:
            won_by_source[source_of[deal.lead_id]].append(deal)
    weighted = lambda d: d.amount * records.stages[d.stage_id].probability / 100  # noqa: E731
    return {
        "pipelineByStageAndOwner": by_stage(records, pipeline, by_owner=True),
        "weightedForecast": figure(
            pipeline, lambda d: d.expected_close_date, bucket, weighted, money=True
        ),
        "wonDeals": won_deals,
        "lostDeals": lost_deals,
        "wonAmount": won_amount,
        "winRate": win_rate,
        "averageDealSize": average,
        "salesCycleDays": cycle,
        "salesVelocity": velocity,
        "closeReasons": [
            {
                "status": s,
                "reason": r,
                "deals": len(g),
                "amount": _q(sum((d.amount for d in g), Decimal(0))),
            }
            for (s, r), g in reasons.items()
        ],
        "revenueByOwner": [
            {
                "ownerId": gid("User", owner),
                "ownerName": records.names.get(owner, "") if owner else "",
                "wonDeals": len(group),
                "wonAmount": _q(sum((d.amount for d in group), Decimal(0))),
                "share": _per(Decimal(_q(sum((d.amount for d in group), Decimal(0)))), total_won),
            }
            for owner, group in revenue.items()
        ],
        "leadSources": [
            {
                "source": source,
                "leads": len(sources[source]),
                "converted": sum(1 for lead in sources[source] if lead.status == "converted"),
                "wonDeals": len(won_by_source[source]),
                "wonAmount": _q(sum((d.amount for d in won_by_source[source]), Decimal(0))),
            }
            for source in {*sources, *won_by_source}
        ],
    }


def assert_same(answer: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        assert _normal(answer[name]) == _normal(value), f"{name}: {answer[name]} != {value}"


def period(bucket: str, **more: Any) -> dict[str, Any]:
    return {"filter": {"from": START.isoformat(), "to": END.isoformat(), "bucket": bucket, **more}}


async def test_every_figure_matches_the_records_for_each_viewers_scope(api: Api) -> None:
    records = await generate()
    everyone: set[uuid.UUID | None] = {*records.users.values(), None}
    users = records.users
    north = {users["head"], users["north1"], users["north2"]}

    data = await api.graphql(SALES, period("MONTH"))
    assert_same(data["salesDashboard"], sales_expected(records, everyone, "MONTH"))
    data = await api.graphql(HEAD, period("WEEK"))
    assert_same(data["salesHeadDashboard"], head_expected(records, everyone, "WEEK"))

    head = await api.sign_in("head@acme.example.com", PASSWORD)
    data = await head.graphql(HEAD, period("MONTH"))
    assert_same(data["salesHeadDashboard"], head_expected(records, north, "MONTH"))

    # A sales person sees only their own figures, whatever owner or team they ask for.
    north1 = await head.sign_in("north1@acme.example.com", PASSWORD)
    data = await north1.graphql(SALES, period("WEEK"))
    assert_same(data["salesDashboard"], sales_expected(records, {users["north1"]}, "WEEK"))
    south = gid("User", users["south1"])
    data = await north1.graphql(HEAD, period("MONTH", ownerId=south))
    assert_same(data["salesHeadDashboard"], head_expected(records, set(), "MONTH"))

    # The admin narrows to a team, an owner, a currency.
    team = gid("OrgUnit", records.north)
    data = await api.graphql(HEAD, period("MONTH", teamId=team, currency="EUR"))
    assert_same(data["salesHeadDashboard"], head_expected(records, north, "MONTH", "EUR"))
    data = await api.graphql(SALES, period("DAY", ownerId=south))
    assert_same(data["salesDashboard"], sales_expected(records, {users["south1"]}, "DAY"))

    await quotas_are_set_by_heads_and_attained_by_won_deals(records, api, head, north1)
    await reports_stream_as_csv_with_the_same_figures(records, head, north1)


async def reports_stream_as_csv_with_the_same_figures(
    records: Records, head: Api, north1: Api
) -> None:
    north = {records.users["head"], records.users["north1"], records.users["north2"]}
    expected = head_expected(records, north, "MONTH")
    query = {"from": START.isoformat(), "to": END.isoformat(), "bucket": "month"}
    response = await head.client.get(
        "/reports/sales-head.csv", params=query, headers=head.headers()
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "sales-head-2026-01-01-2026-06-30.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["figure", "group", "bucket", "value"]
    won = {bucket: value for figure, _, bucket, value in rows if figure == "won_amount"}
    assert {k: Decimal(v) for k, v in won.items()} == {
        **{p["start"]: Decimal(p["value"]) for p in expected["wonAmount"]["series"]},
        "total": Decimal(expected["wonAmount"]["value"]),
    }
    owners = [r for r in rows if r[0] == "revenue_by_owner.won_deals"]
    assert sorted(int(r[3]) for r in owners) == sorted(
        r["wonDeals"] for r in expected["revenueByOwner"]
    )
    # The same rows as a workbook, values as numbers.
    workbook = await head.client.get(
        "/reports/sales-head.xlsx", params=query, headers=head.headers()
    )
    assert workbook.status_code == 200, workbook.text
    sheet = load_workbook(io.BytesIO(workbook.content), read_only=True).active
    cells = [
        [cell if cell is not None else "" for cell in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    assert cells[0] == rows[0]
    assert [[*r[:3], Decimal(str(r[3]))] for r in cells[1:]] == [
        [*r[:3], Decimal(r[3])] for r in rows[1:]
    ]
    for caller, path, status in (
        (north1, "/reports/sysadmin.csv", 403),
        (north1, "/reports/sysadmin.xlsx", 403),
        (north1, "/reports/nothing.csv", 404),
        (north1.as_(None), "/reports/sales.csv", 401),
    ):
        refused = await caller.client.get(path, params=query, headers=caller.headers())
        assert refused.status_code == status, refused.text
    bad = await north1.client.get(
        "/reports/sales.csv", params={**query, "to": "June"}, headers=north1.headers()
    )
    assert bad.json()["errors"][0]["field"] == "to", bad.text


SET_QUOTA = """
mutation($input: SetQuotaInput!) {
  setQuota(input: $input) { quota { id ownerId teamId from to amount } errors { field code } }
}"""
QUOTAS = "query($from: Date!, $to: Date!) { quotas(from: $from, to: $to) { %s } }"
ATTAINMENT = "quota { ownerId teamId amount currency } wonDeals wonAmount share"


def attained(
    records: Records, owners: set[uuid.UUID], target: str, currency: str | None
) -> dict[str, Any]:
    won = [
        d
        for d in records.deals
        if d.deleted_at is None
        and d.status == "won"
        and d.owner_id in owners
        and in_period(d.closed_at)
        and currency in (None, d.currency)
    ]
    amount = sum((d.amount for d in won), Decimal(0))
    return {"wonDeals": len(won), "wonAmount": _q(amount), "share": _per(amount, Decimal(target))}


async def quotas_are_set_by_heads_and_attained_by_won_deals(
    records: Records, admin: Api, head: Api, north1: Api
) -> None:
    users = records.users
    mine = {"ownerId": gid("User", users["north1"]), "from": "2026-01-01", "to": "2026-06-30"}
    quota = (await head.graphql(SET_QUOTA, {"input": {**mine, "amount": "900.00"}}))["setQuota"]
    assert quota["errors"] == [], quota
    assert quota["quota"]["amount"] == "900.00", quota
    again = {**mine, "amount": "1000.00", "currency": "EUR"}  # the same period: changed
    quota = (await head.graphql(SET_QUOTA, {"input": again}))["setQuota"]
    team = {"teamId": gid("OrgUnit", records.north), "from": "2026-01-01", "to": "2026-06-30"}
    quota = (await head.graphql(SET_QUOTA, {"input": {**team, "amount": "5000"}}))["setQuota"]
    assert quota["errors"] == [], quota
    south = {**mine, "ownerId": gid("User", users["south1"]), "amount": "10"}
    refused = (await head.graphql(SET_QUOTA, {"input": south}))["setQuota"]
    assert refused["errors"] == [{"field": None, "code": "FORBIDDEN"}], refused
    refused = (await north1.graphql(SET_QUOTA, {"input": {**mine, "amount": "1"}}))["setQuota"]
    assert refused["errors"] == [{"field": None, "code": "FORBIDDEN"}], refused
    neither = {"from": "2026-01-01", "to": "2026-06-30", "amount": "1"}
    refused = (await head.graphql(SET_QUOTA, {"input": neither}))["setQuota"]
    assert refused["errors"] == [{"field": "ownerId", "code": "INVALID"}], refused

    north = {users["head"], users["north1"], users["north2"]}
    person = attained(records, {users["north1"]}, "1000", "EUR")
    whole_team = attained(records, north, "5000", None)
    span = {"from": "2026-03-01", "to": "2026-03-31"}
    found = (await head.graphql(QUOTAS % ATTAINMENT, span))["quotas"]
    # The team's first (quotas come by period, then team before person).
    assert [{k: v for k, v in q.items() if k != "quota"} for q in found] == [whole_team, person]
    # The sales person sees their own quota and their team's, on their dashboard too.
    dashboard = await north1.graphql(
        "query($filter: DashboardFilterInput!) { salesDashboard(filter: $filter) "
        "{ quotas { wonAmount quota { amount } } } }",
        period("MONTH"),
    )
    amounts = sorted(q["quota"]["amount"] for q in dashboard["salesDashboard"]["quotas"])
    assert amounts == ["1000.00", "5000.00"], dashboard
    south1 = await admin.sign_in("south1@acme.example.com", PASSWORD)
    assert (await south1.graphql(QUOTAS % "wonDeals", span))["quotas"] == []


async def test_a_period_that_ends_before_it_starts_or_is_too_fine_is_refused(api: Api) -> None:
    for filter, name in (
        ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-01", "bucket": "DAY"}, "bucket"),
        ({"from": "2026-01-01", "to": "9999-12-31"}, "to"),
    ):
        response = await api.post({"query": SALES, "variables": {"filter": filter}})
        error = response.json()["errors"][0]
        assert error["extensions"] == {"code": "INVALID", "field": name}, error


SUPPORT = f"""
query($filter: DashboardFilterInput!) {{
  supportDashboard(filter: $filter) {{
    openTickets {{ status priority tickets }}
    newTickets {FIGURE} resolvedTickets {FIGURE} firstResponseBreaches {FIGURE}
    resolutionBreaches {FIGURE} slaAttainment {FIGURE} firstResponseHours {FIGURE}
    resolutionHours {FIGURE} satisfaction {FIGURE} ratings {FIGURE}
  }}
}}"""
SYSADMIN = f"""
query($filter: DashboardFilterInput!) {{
  sysadminDashboard(filter: $filter) {{
    flowRuns {{ flowKey version status runs }} flowRunsStarted {FIGURE} flowRunsFailed {FIGURE}
    outboxPending outboxRetrying webhookDeliveries {{ status count }}
    webhookFailures {FIGURE} webhookRetried {FIGURE}
    broadcastRuns {{ name occurrence status targeted sent failed }}
  }}
}}"""


def _later(rng: random.Random, moment: datetime) -> datetime | None:
    return moment + timedelta(hours=rng.randrange(1, 200)) if rng.random() < 0.6 else None


async def generate_operations(records: Records, seed: int = 17) -> dict[str, list[Any]]:
    """Tickets, flow runs, outbox messages, webhook deliveries and broadcast runs."""
    rng = random.Random(seed)
    agency = (await acme_system()).agency_id
    assignees: list[uuid.UUID | None] = [*records.users.values(), None]
    tickets = []
    for index in range(40):
        created = _moment(rng)
        rated = _later(rng, created)
        tickets.append(
            Ticket(
                id=uuid.uuid4(),
                agency_id=agency,
                subject=f"Ticket {index}",
                assignee_id=rng.choice(assignees),
                status=rng.choice(["new", "open", "pending", "resolved", "closed"]),
                priority=rng.choice(["low", "normal", "urgent"]),
                created_at=created,
                resolution_target=rng.choice([None, 3600, 7200]),
                first_response_at=_later(rng, created),
                resolved_at=_later(rng, created),
                first_response_breached_at=_later(rng, created),
                resolution_breached_at=_later(rng, created),
                satisfaction_score=rng.randint(1, 5) if rated else None,
                rated_at=rated,
            )
        )
    runs = [
        FlowRun(
            agency_id=agency,
            workflow_id=f"flow:{uuid.uuid4()}",
            flow_key=rng.choice(["onboarding", "nurture"]),
            version=rng.choice([1, 2]),
            record_type="contact",
            record_id=str(uuid.uuid4()),
            status=rng.choice(["running", "completed", "failed", "stalled"]),
            created_at=_moment(rng),
            updated_at=_moment(rng),
        )
        for _ in range(30)
    ]
    outbox = [
        OutboxMessage(
            agency_id=agency,
            kind="start_flow",
            workflow_id=f"flow:{index}",
            status="pending" if index < 5 else "delivered",
            attempts=index % 3,
            next_attempt_at=datetime.now(UTC),
        )
        for index in range(8)
    ]
    endpoint = await WebhookEndpoint.create(agency_id=agency, url="https://x.test", secret="s")
    deliveries = [
        WebhookDelivery(
            agency_id=agency,
            endpoint_id=endpoint.id,
            event_id=index,
            event_type="contact.created",
            status=rng.choice(["pending", "delivered", "failed"]),
            attempts=rng.randrange(0, 4),
            created_at=_moment(rng),
        )
        for index in range(30)
    ]
    broadcast = await Broadcast.create(
        agency_id=agency,
        name="Newsletter",
        template_key="newsletter",
        record_type="contact",
        time_zone="UTC",
        send_at=datetime(2026, 1, 1, tzinfo=UTC),
        status="scheduled",
        created_by="test",
    )
    sendings = [
        BroadcastRun(
            agency_id=agency,
            broadcast_id=broadcast.id,
            occurrence=f"2026-{month:02}-01",
            status="finished",
            targeted=10 * month,
            sent=9 * month,
            failed=month,
            started_at=datetime(2026, month, 1, 9, tzinfo=UTC),
        )
        for month in range(1, 9)
    ]
    # Each table's rows, the column that finds each again, and its automatic timestamps.
    tables: list[tuple[Any, list[Any], str, tuple[str, ...]]] = [
        (Ticket, tickets, "id", ("created_at",)),
        (FlowRun, runs, "workflow_id", ("created_at", "updated_at")),
        (OutboxMessage, outbox, "workflow_id", ()),
        (WebhookDelivery, deliveries, "event_id", ("created_at",)),
        (BroadcastRun, sendings, "occurrence", ("started_at",)),
    ]
    for model, rows, key, stamps in tables:
        await model.bulk_create(rows)
        for row in rows if stamps else []:
            found = {key: getattr(row, key), "agency_id": agency}
            await model.filter(**found).update(**{name: getattr(row, name) for name in stamps})
    return {"tickets": tickets, "runs": runs, "deliveries": deliveries}


def support_expected(
    tickets: list[Ticket], assignees: set[uuid.UUID] | set[uuid.UUID | None], bucket: str
) -> dict[str, Any]:
    mine = [t for t in tickets if t.assignee_id in assignees]
    still_open: dict[tuple[str, str], int] = defaultdict(int)
    for ticket in mine:
        if ticket.status in ("new", "open", "pending"):
            still_open[(ticket.status, ticket.priority)] += 1

    def when(column: str) -> list[Ticket]:
        return [t for t in mine if in_period(getattr(t, column))]

    def at(column: str) -> Callable[[Ticket], Any]:
        return lambda t: getattr(t, column)

    created = when("created_at")
    targeted = [t for t in created if t.resolution_target is not None]
    met = [
        t
        for t in targeted
        if t.resolution_breached_at is None and t.first_response_breached_at is None
    ]

    def hours(column: str) -> dict[str, Any]:
        rows = when(column)
        seconds = figure(
            rows,
            at(column),
            bucket,
            lambda t: Decimal((getattr(t, column) - t.created_at).total_seconds()),
        )
        count = figure(rows, at(column), bucket)
        average = ratio_figure(seconds, count, RATIO)
        return {
            "value": _q(Decimal(average["value"]) / 3600),
            "series": [{**p, "value": _q(Decimal(p["value"]) / 3600)} for p in average["series"]],
        }

    rated = when("rated_at")
    ratings = figure(rated, at("rated_at"), bucket)
    scores = figure(rated, at("rated_at"), bucket, lambda t: Decimal(t.satisfaction_score))
    return {
        "openTickets": [
            {"status": s, "priority": p, "tickets": n} for (s, p), n in still_open.items()
        ],
        "newTickets": figure(created, at("created_at"), bucket),
        "resolvedTickets": figure(when("resolved_at"), at("resolved_at"), bucket),
        "firstResponseBreaches": figure(
            when("first_response_breached_at"), at("first_response_breached_at"), bucket
        ),
        "resolutionBreaches": figure(
            when("resolution_breached_at"), at("resolution_breached_at"), bucket
        ),
        "slaAttainment": ratio_figure(
            figure(met, at("created_at"), bucket), figure(targeted, at("created_at"), bucket), RATIO
        ),
        "firstResponseHours": hours("first_response_at"),
        "resolutionHours": hours("resolved_at"),
        "satisfaction": ratio_figure(scores, ratings, CENT),
        "ratings": ratings,
    }


def sysadmin_expected(made: dict[str, list[Any]], bucket: str) -> dict[str, Any]:
    started = [r for r in made["runs"] if in_period(r.created_at)]
    groups: dict[tuple[str, int, str], int] = defaultdict(int)
    for run in started:
        groups[(run.flow_key, run.version, run.status)] += 1
    deliveries = [d for d in made["deliveries"] if in_period(d.created_at)]
    statuses: dict[str, int] = defaultdict(int)
    for delivery in deliveries:
        statuses[delivery.status] += 1
    at = lambda row: row.created_at  # noqa: E731
    return {
        "flowRuns": [
            {"flowKey": k, "version": v, "status": s, "runs": n} for (k, v, s), n in groups.items()
        ],
        "flowRunsStarted": figure(started, at, bucket),
        "flowRunsFailed": figure(
            [
                r
                for r in made["runs"]
                if r.status in ("failed", "stalled") and in_period(r.updated_at)
            ],
            lambda r: r.updated_at,
            bucket,
        ),
        "outboxPending": 5,
        "outboxRetrying": 3,
        "webhookDeliveries": [{"status": s, "count": n} for s, n in statuses.items()],
        "webhookFailures": figure([d for d in deliveries if d.status == "failed"], at, bucket),
        "webhookRetried": figure([d for d in deliveries if d.attempts > 1], at, bucket),
        "broadcastRuns": [
            {
                "name": "Newsletter",
                "occurrence": f"2026-{month:02}-01",
                "status": "finished",
                "targeted": 10 * month,
                "sent": 9 * month,
                "failed": month,
            }
            for month in range(1, 7)
        ],
    }


async def test_support_and_sysadmin_figures_match_the_records(api: Api) -> None:
    records = await generate()
    made = await generate_operations(records)
    everyone: set[uuid.UUID | None] = {*records.users.values(), None}
    data = await api.graphql(SUPPORT, period("WEEK"))
    assert_same(data["supportDashboard"], support_expected(made["tickets"], everyone, "WEEK"))
    data = await api.graphql(SYSADMIN, period("MONTH"))
    assert_same(data["sysadminDashboard"], sysadmin_expected(made, "MONTH"))
    # A sales person reads only the tickets handed to them, and none of the machinery.
    north1 = await api.sign_in("north1@acme.example.com", PASSWORD)
    data = await north1.graphql(SUPPORT, period("MONTH"))
    mine = {records.users["north1"]}
    assert_same(data["supportDashboard"], support_expected(made["tickets"], mine, "MONTH"))
    response = await north1.post({"query": SYSADMIN, "variables": period("MONTH")})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
