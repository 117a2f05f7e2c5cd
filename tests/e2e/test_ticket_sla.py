"""SLA clocks kept by `TicketSla` runs on the time-skipping server: warnings to the assignee
and breaches escalated to the team's sales head at their due times, a policy change that
leaves a running ticket on its version, and a pause (Pending) that moves every due time.

The calendar here is open around the clock, so due times are plain arithmetic whatever day
the suite runs; business hours, weekends and holidays are `tests/unit/test_business_time.py`'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio.client import WorkflowHandle

from db.notifications import Notification
from db.tickets import Ticket
from domain import agencies, service_levels, tickets, users
from domain.roles import Role
from tests.e2e.conftest import Api
from tests.fixtures.flows import Flows
from workflows.ticket_sla import TicketSlaResult

ALL_WEEK = [[[0, 1440]]] * 7
MINUTE = timedelta(minutes=1)


async def policy(flows: Flows, first_response: int, resolution: int | None) -> None:
    targets: list[dict[str, Any]] = [
        {
            "priority": "normal",
            "first_response_minutes": first_response,
            "resolution_minutes": resolution,
        }
    ]
    await service_levels.publish_sla_policy(flows.actor, {"targets": targets})


async def clocks_run(flows: Flows, *records: Ticket) -> list[TicketSlaResult]:
    await flows.relay_all()
    results = []
    async with flows.worker():
        for record in records:
            workflow_id = tickets.sla_workflow_id(record.id)
            handle: WorkflowHandle[Any, TicketSlaResult] = flows.client.get_workflow_handle(
                workflow_id, result_type=TicketSlaResult
            )
            results.append(await flows.result(handle))
    return results


def at(record: Ticket, minutes: float) -> datetime:
    return record.created_at + minutes * MINUTE


async def test_warnings_and_breaches_fire_on_time_and_a_new_policy_leaves_running_tickets_alone(
    api: Api, sending: Flows
) -> None:
    system = sending.actor
    await service_levels.set_business_calendar(system, {"weekly_hours": ALL_WEEK})
    team = await agencies.create_org_unit(system, "Support", None)
    head = await users.create_user(
        system,
        {
            "email": "lead@acme.example.com",
            "name": "Lead",
            "password": "long enough password",
            "roles": [Role.SALES_HEAD],
            "org_unit_id": team.id,
        },
    )
    agent = await users.create_user(
        system,
        {
            "email": "agent@acme.example.com",
            "name": "Agent",
            "password": "long enough password",
            "roles": [Role.CUSTOMER_SUPPORT],
        },
    )
    await policy(sending, first_response=60, resolution=240)
    first = await tickets.create_ticket(
        system, {"subject": "Old terms", "assignee_id": agent.id, "team_id": team.id}
    )
    await policy(sending, first_response=10, resolution=20)
    second = await tickets.create_ticket(system, {"subject": "New terms", "team_id": team.id})
    assert (first.sla_policy_version, second.sla_policy_version) == (1, 2)

    results = await clocks_run(sending, first, second)

    every = [
        "first_response:warning",
        "first_response:breach",
        "resolution:warning",
        "resolution:breach",
    ]
    assert [r.fired for r in results] == [every, every]
    for record, minutes in ((first, (45, 60, 180, 240)), (second, (7.5, 10, 15, 20))):
        row = await Ticket.get(id=record.id)
        recorded = (
            row.first_response_warned_at,
            row.first_response_breached_at,
            row.resolution_warned_at,
            row.resolution_breached_at,
        )
        assert recorded == tuple(at(record, m) for m in minutes)
    warned = await Notification.filter(user_id=agent.id).values_list("kind", "message")
    assert sorted(kind for kind, _ in warned) == ["reminder", "reminder"]
    assert all("SLA warning" in message for _, message in warned)
    escalated = await Notification.filter(user_id=head.id).values_list("kind", "message")
    assert [kind for kind, _ in escalated] == ["escalation"] * 4
    assert all("SLA breached" in message for _, message in escalated)


async def test_a_pending_ticket_stops_its_clocks_and_the_customer_s_answer_restarts_them(
    api: Api, sending: Flows
) -> None:
    system = sending.actor
    await service_levels.set_business_calendar(system, {"weekly_hours": ALL_WEEK})
    await policy(sending, first_response=60, resolution=None)
    record = await tickets.create_ticket(system, {"subject": "Which plan?"})
    await tickets.transition_ticket(system, record.id, "wait_on_customer", now=at(record, 20))
    waiting = await Ticket.get(id=record.id)
    [clock] = tickets.sla_clocks(waiting, now=at(record, 500))
    assert (clock.paused, clock.due_at, clock.seconds_left) == (True, None, 40 * 60)

    await tickets.transition_ticket(system, record.id, "customer_replied", now=at(record, 140))
    answered = await Ticket.get(id=record.id)
    [clock] = tickets.sla_clocks(answered, now=at(record, 150))
    assert (clock.paused, clock.due_at, clock.seconds_left) == (False, at(record, 180), 30 * 60)

    [result] = await clocks_run(sending, record)

    assert result.fired == ["first_response:warning", "first_response:breach"]
    row = await Ticket.get(id=record.id)
    # 45 and 60 minutes of running clock, around the two hours it stood still.
    assert row.first_response_warned_at == at(record, 165)
    assert row.first_response_breached_at == at(record, 180)


async def test_a_new_priority_retargets_the_running_clocks_from_the_ticket_s_policy_version(
    api: Api, sending: Flows
) -> None:
    system = sending.actor
    await service_levels.set_business_calendar(system, {"weekly_hours": ALL_WEEK})
    first_version = [
        {"priority": "normal", "first_response_minutes": 60},
        {"priority": "urgent", "first_response_minutes": 10},
    ]
    await service_levels.publish_sla_policy(system, {"targets": first_version})
    record = await tickets.create_ticket(system, {"subject": "Slow site"})
    later = [{"priority": "urgent", "first_response_minutes": 30}]
    await service_levels.publish_sla_policy(system, {"targets": later})

    await tickets.update_ticket(system, record.id, {"priority": "urgent"})

    row = await Ticket.get(id=record.id)
    assert (row.sla_policy_version, row.first_response_target) == (1, 10 * 60)
    [result] = await clocks_run(sending, record)
    assert result.fired == ["first_response:warning", "first_response:breach"]
    row = await Ticket.get(id=record.id)
    assert (row.first_response_warned_at, row.first_response_breached_at) == (
        at(record, 7.5),
        at(record, 10),
    )


CALENDAR = """
mutation($input: SetBusinessCalendarInput!) {
  setBusinessCalendar(input: $input) {
    calendar { timeZone weeklyHours holidays holidayCountry } errors { field code }
  }
}"""
PUBLISH = """
mutation($input: PublishSlaPolicyInput!) {
  publishSlaPolicy(input: $input) {
    policy { version warningShare targets { priority rating firstResponseMinutes } }
    errors { field code }
  }
}"""


async def test_an_admin_sets_the_calendar_and_policy_and_a_ticket_shows_its_time_left(
    api: Api,
) -> None:
    refused = await api.graphql(
        CALENDAR, {"input": {"weeklyHours": [[[600, 540]]] * 7, "holidayCountry": "XX"}}
    )
    codes = {e["field"]: e["code"] for e in refused["setBusinessCalendar"]["errors"]}
    assert codes == {"weeklyHours": "INVALID_HOURS", "holidayCountry": "UNKNOWN_COUNTRY"}
    week_input = {"input": {"timeZone": "Europe/London", "weeklyHours": ALL_WEEK,
                            "holidays": ["2026-12-31"], "holidayCountry": "gb"}}  # fmt: skip
    calendar = (await api.graphql(CALENDAR, week_input))["setBusinessCalendar"]
    assert calendar["errors"] == []
    assert calendar["calendar"]["holidayCountry"] == "GB"
    assert calendar["calendar"]["weeklyHours"] == ALL_WEEK
    targets = [
        {"priority": "NORMAL", "firstResponseMinutes": 60},
        {"priority": "NORMAL", "rating": "gold", "firstResponseMinutes": 15},
    ]
    published = (await api.graphql(PUBLISH, {"input": {"targets": targets}}))["publishSlaPolicy"]
    assert published["policy"]["version"] == 1
    assert published["policy"]["warningShare"] == 0.75
    gold = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Gold Co", "rating": "Gold"}
    )
    created = await api.graphql(
        'mutation($c: ID!) { createTicket(input: {subject: "Down", customerId: $c}) '
        "{ ticket { slaPolicyVersion sla { name targetSeconds dueAt secondsLeft paused } } } }",
        {"c": gold},
    )
    ticket = created["createTicket"]["ticket"]
    assert ticket["slaPolicyVersion"] == 1
    [clock] = ticket["sla"]
    assert (clock["name"], clock["targetSeconds"], clock["paused"]) == (
        "FIRST_RESPONSE",
        15 * 60,
        False,
    )
    assert 0 < clock["secondsLeft"] <= 15 * 60
