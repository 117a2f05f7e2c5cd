"""Report schedules through the API, on SQLite and PostgreSQL: who may keep which, the typed
errors and limits, next run times, and the outbox messages that keep the Temporal Schedule in
step with every change (the delivery itself: tests/integration/test_report_delivery.py)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from strawberry import relay

from db.events import Event
from db.outbox import OutboxMessage
from db.report_schedules import ReportSchedule
from domain import agencies, report_schedules, users
from domain.actors import Actor
from domain.event_visibility import visible_events
from domain.outbox import OutboxKind
from domain.roles import Role
from tests.e2e.colleagues import PASSWORD, acme_system, member
from tests.e2e.conftest import Api

FIELDS = """
  reportSchedule {
    id name report format ownerId status pausedReason nextRunTimes recipientIds externalEmails
    filter { period bucket teamId ownerId currency }
    cadence { frequency weekday dayOfMonth hour minute timeZone }
    lastDelivery { status }
  }
  errors { field code message }
"""
CREATE = f"""mutation($input: CreateReportScheduleInput!) {{
  createReportSchedule(input: $input) {{ {FIELDS} }} }}"""
UPDATE = f"""mutation($input: UpdateReportScheduleInput!) {{
  updateReportSchedule(input: $input) {{ {FIELDS} }} }}"""
LIST = "{ reportSchedules { id name status nextRunTimes } }"


def action(name: str) -> str:
    return f"""mutation($id: ID!) {{ {name}(input: {{id: $id}}) {{ {FIELDS} }} }}"""


def gid(type_name: str, value: object) -> str:
    return str(relay.GlobalID(type_name, str(value)))


class Team:
    """Acme's North team (a sales head and a sales person), a South sales person, signed in."""

    def __init__(self, api: Api) -> None:
        self.api = api

    async def build(self) -> Team:
        system = await acme_system()
        sales = await agencies.create_org_unit(system, "Sales", None)
        north = await agencies.create_org_unit(system, "North", sales.id)
        south = await agencies.create_org_unit(system, "South", sales.id)
        self.north_id, self.south_id = north.id, south.id
        self.head = await member("head@acme.example.com", Role.SALES_HEAD, org_unit_id=north.id)
        self.north1 = await member(
            "north1@acme.example.com", Role.SALES_PERSON, org_unit_id=north.id
        )
        self.south1 = await member(
            "south1@acme.example.com", Role.SALES_PERSON, org_unit_id=south.id
        )
        self.other_head = await member(
            "head.south@acme.example.com", Role.SALES_HEAD, org_unit_id=south.id
        )
        self.as_head = await self.api.sign_in(self.head.email, PASSWORD)
        self.as_north1 = await self.api.sign_in(self.north1.email, PASSWORD)
        self.as_other_head = await self.api.sign_in(self.other_head.email, PASSWORD)
        return self

    def weekly(self, **more: Any) -> dict[str, Any]:
        return {
            "name": "North weekly",
            "report": "sales-head",
            "format": "XLSX",
            "filter": {
                "period": "LAST_WEEK",
                "bucket": "DAY",
                "teamId": gid("OrgUnit", self.north_id),
            },
            "cadence": {
                "frequency": "WEEKLY",
                "weekday": "MONDAY",
                "hour": 8,
                "minute": 30,
                "timeZone": "Europe/London",
            },
            "recipientIds": [gid("User", self.head.id), gid("User", self.north1.id)],
            **more,
        }


async def syncs(schedule_id: str) -> list[dict[str, Any]]:
    """The wanted states the relay is to apply to the schedule's Temporal Schedule, in order."""
    node = relay.GlobalID.from_id(schedule_id).node_id
    rows = await OutboxMessage.filter(
        kind=OutboxKind.SYNC_REPORT_SCHEDULE,
        workflow_id=report_schedules.temporal_schedule_id(node),
    ).order_by("id")
    return [row.payload for row in rows]


async def create(caller: Api, data: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = (await caller.graphql(CREATE, {"input": data}))["createReportSchedule"]
    return answer


async def test_a_sales_head_schedules_a_team_report_with_its_next_runs_and_temporal_state(
    api: Api,
) -> None:
    team = await Team(api).build()
    answer = await create(team.as_head, team.weekly())
    assert answer["errors"] == []
    made = answer["reportSchedule"]
    assert (made["report"], made["format"], made["status"]) == ("sales-head", "XLSX", "ACTIVE")
    assert made["ownerId"] == gid("User", team.head.id)
    assert made["filter"]["teamId"] == gid("OrgUnit", team.north_id)
    assert made["cadence"]["weekday"] == "MONDAY"
    london = ZoneInfo("Europe/London")
    runs = [datetime.fromisoformat(t).astimezone(london) for t in made["nextRunTimes"]]
    assert len(runs) == 3
    assert {(t.weekday(), t.hour, t.minute) for t in runs} == {(0, 8, 30)}
    assert runs[0] > datetime.now(UTC)
    assert [b - a for a, b in itertools.pairwise(runs)] == [timedelta(days=7)] * 2

    # The relay is told the whole wanted state, in the transaction that saved the row.
    [state] = await syncs(made["id"])
    assert {
        k: state[k] for k in ("deleted", "paused", "frequency", "weekday", "hour", "minute")
    } == {
        "deleted": False,
        "paused": False,
        "frequency": "weekly",
        "weekday": 0,
        "hour": 8,
        "minute": 30,
    }
    assert state["time_zone"] == "Europe/London"

    # Who sees it: its owner and the admins, nobody else.
    assert [s["id"] for s in (await team.as_head.graphql(LIST))["reportSchedules"]] == [made["id"]]
    assert [s["id"] for s in (await api.graphql(LIST))["reportSchedules"]] == [made["id"]]
    assert (await team.as_other_head.graphql(LIST))["reportSchedules"] == []
    refused = await team.as_north1.post({"query": LIST})
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Its events reach the same people (subscriptions, webhooks).
    events = await Event.filter(aggregate_type="report_schedule").order_by("id")
    assert [e.type for e in events] == ["report_schedule.created"]
    for user, sees in ((team.head, True), (team.other_head, False), (team.north1, False)):
        actor = Actor(
            agency_id=user.agency_id,
            id=f"user:{user.id}",
            user_id=user.id,
            roles=frozenset(Role(r) for r in user.roles),
            team=frozenset({user.id}),
        )
        assert bool(await visible_events(actor, events)) is sees, user.email


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"report": "everything"}, "report", "UNKNOWN_REPORT"),
        ({"report": "sysadmin"}, "report", "FORBIDDEN"),
        ({"name": " "}, "name", "REQUIRED"),
        (
            {"cadence": {"frequency": "WEEKLY", "hour": 8}},
            "cadence.weekday",
            "INVALID_CADENCE",
        ),
        (
            {"cadence": {"frequency": "DAILY", "weekday": "FRIDAY", "hour": 8}},
            "cadence.weekday",
            "INVALID_CADENCE",
        ),
        (
            {"cadence": {"frequency": "MONTHLY", "dayOfMonth": 31, "hour": 8}},
            "cadence.dayOfMonth",
            "OUT_OF_RANGE",
        ),
        ({"cadence": {"frequency": "DAILY", "hour": 24}}, "cadence.hour", "OUT_OF_RANGE"),
        (
            {"cadence": {"frequency": "DAILY", "hour": 8, "timeZone": "Mars/Olympus"}},
            "cadence.timeZone",
            "INVALID_TIME_ZONE",
        ),
        ({"recipientIds": []}, "recipientIds", "INVALID_RECIPIENTS"),
        ({"externalEmails": ["boss@example.com"]}, "externalEmails", "FORBIDDEN"),
        ({"recipientIds": ["south1"]}, "recipientIds", "INVALID_RECIPIENTS"),
        ({"recipientIds": ["contact"]}, "recipientIds.0", "INVALID_RECIPIENTS"),
        ({"filter": {"period": "LAST_WEEK", "currency": "EURO"}}, "filter.currency", "INVALID"),
    ],
)
async def test_bad_input_is_a_typed_error_and_nothing_is_saved(
    api: Api, change: dict[str, Any], field: str, code: str
) -> None:
    team = await Team(api).build()
    if change.get("recipientIds") == ["south1"]:  # outside the head's team
        change = {"recipientIds": [gid("User", team.south1.id)]}
    if change.get("recipientIds") == ["contact"]:  # an id, but not a user's
        change = {"recipientIds": [gid("Contact", uuid.uuid4())]}
    answer = await create(team.as_head, team.weekly(**change))
    assert answer["reportSchedule"] is None
    assert [(e["field"], e["code"]) for e in answer["errors"]] == [(field, code)]
    assert await ReportSchedule.all().count() == 0
    assert not await OutboxMessage.filter(kind=OutboxKind.SYNC_REPORT_SCHEDULE).exists()


async def test_admins_send_outside_the_agency_within_the_limits(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = await Team(api).build()
    outside = [f"person{i}@example.com" for i in range(18)]  # and two users: 20
    data = team.weekly(externalEmails=outside, report="sales")
    answer = await create(api, data)
    assert answer["errors"] == [], answer["errors"]
    assert answer["reportSchedule"]["externalEmails"] == outside
    # The same address twice is one recipient; a twenty-first is one too many.
    again = await create(api, {**data, "externalEmails": [*outside, outside[0]]})
    assert again["errors"] == []
    too_many = await create(api, {**data, "externalEmails": [*outside, "one.more@example.com"]})
    assert [e["code"] for e in too_many["errors"]] == ["TOO_MANY_RECIPIENTS"]
    bad = await create(api, {**data, "externalEmails": ["not an address"]})
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [
        ("externalEmails.0", "INVALID_EMAIL")
    ]

    monkeypatch.setattr(report_schedules, "MAX_SCHEDULES_PER_AGENCY", 3)
    assert (await create(team.as_head, team.weekly()))["errors"] == []
    full = await create(team.as_head, team.weekly())
    assert [e["code"] for e in full["errors"]] == ["TOO_MANY_SCHEDULES"]
    assert await ReportSchedule.all().count() == 3


async def test_update_pause_resume_and_delete_keep_temporal_in_step_and_are_idempotent(
    api: Api,
) -> None:
    team = await Team(api).build()
    made = (await create(team.as_head, team.weekly()))["reportSchedule"]
    schedule_id = made["id"]

    changed = (
        await team.as_head.graphql(
            UPDATE,
            {
                "input": {
                    "id": schedule_id,
                    "name": "North monthly",
                    "cadence": {"frequency": "MONTHLY", "dayOfMonth": 1, "hour": 7},
                }
            },
        )
    )["updateReportSchedule"]
    assert changed["errors"] == []
    schedule = changed["reportSchedule"]
    assert schedule["name"] == "North monthly"
    assert schedule["filter"]["period"] == "LAST_WEEK"  # what was not given stays
    assert schedule["cadence"]["timeZone"] == "Europe/London"
    runs = [
        datetime.fromisoformat(t).astimezone(ZoneInfo("Europe/London"))
        for t in schedule["nextRunTimes"]
    ]
    assert {(t.day, t.hour, t.minute) for t in runs} == {(1, 7, 0)}
    refused = (
        await team.as_head.graphql(
            UPDATE, {"input": {"id": schedule_id, "cadence": {"frequency": "WEEKLY", "hour": 7}}}
        )
    )["updateReportSchedule"]
    assert [e["code"] for e in refused["errors"]] == ["INVALID_CADENCE"]

    # Someone else's schedule is not there for a sales person or another sales head.
    for caller in (team.as_north1, team.as_other_head):
        answer = await caller.graphql(action("pauseReportSchedule"), {"id": schedule_id})
        assert [e["code"] for e in answer["pauseReportSchedule"]["errors"]] in (
            ["FORBIDDEN"],
            ["NOT_FOUND"],
        )

    for _ in range(2):  # the second pause changes nothing and tells Temporal nothing new
        paused = (await api.graphql(action("pauseReportSchedule"), {"id": schedule_id}))[
            "pauseReportSchedule"
        ]
        assert paused["errors"] == []
        assert (paused["reportSchedule"]["status"], paused["reportSchedule"]["nextRunTimes"]) == (
            "PAUSED",
            [],
        )
    resumed = (await team.as_head.graphql(action("resumeReportSchedule"), {"id": schedule_id}))[
        "resumeReportSchedule"
    ]
    assert resumed["reportSchedule"]["status"] == "ACTIVE"
    assert len(resumed["reportSchedule"]["nextRunTimes"]) == 3

    states = await syncs(schedule_id)
    assert [(s["frequency"], s["paused"], s["deleted"]) for s in states] == [
        ("weekly", False, False),
        ("monthly", False, False),
        ("monthly", True, False),
        ("monthly", False, False),
    ]

    # An owner deactivated: the schedule cannot be resumed (the run pauses it, see the
    # delivery test); it can be deleted.
    await pause_and_deactivate(api, schedule_id, team)
    refused = (await api.graphql(action("resumeReportSchedule"), {"id": schedule_id}))[
        "resumeReportSchedule"
    ]
    assert [e["code"] for e in refused["errors"]] == ["OWNER_INACTIVE"]

    deleted = (await api.graphql(action("deleteReportSchedule"), {"id": schedule_id}))[
        "deleteReportSchedule"
    ]
    assert deleted["errors"] == []
    assert (await syncs(schedule_id))[-1]["deleted"] is True
    again = (await api.graphql(action("deleteReportSchedule"), {"id": schedule_id}))[
        "deleteReportSchedule"
    ]
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]
    assert (await api.graphql(LIST))["reportSchedules"] == []


async def pause_and_deactivate(api: Api, schedule_id: str, team: Team) -> None:
    await api.graphql(action("pauseReportSchedule"), {"id": schedule_id})
    await users.update_user(await acme_system(), team.head.id, {"is_active": False})


async def test_an_other_agency_never_sees_or_changes_a_schedule(api: Api) -> None:
    team = await Team(api).build()
    made = (await create(team.as_head, team.weekly()))["reportSchedule"]
    await agencies.bootstrap_agency("Bolt", "bolt", "admin@bolt.example.com", "Bo", PASSWORD)
    bolt = await api.sign_in("admin@bolt.example.com", PASSWORD)
    assert (await bolt.graphql(LIST))["reportSchedules"] == []
    for name in ("pauseReportSchedule", "deleteReportSchedule"):
        answer = (await bolt.graphql(action(name), {"id": made["id"]}))[name]
        assert [e["code"] for e in answer["errors"]] == ["NOT_FOUND"]
    # A Bolt admin cannot send to Acme's people either.
    foreign = await create(bolt, {**team.weekly(), "filter": {"period": "YESTERDAY"}})
    assert [e["code"] for e in foreign["errors"]] == ["INVALID_RECIPIENTS"]
