"""Flow definition validation: shape, limits, the step graph and the machines' vocabulary."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from crm.flow_files import load_default_flows
from domain.flows.definitions import (
    MAX_STEPS,
    Condition,
    FlowDefinition,
    InvalidDefinition,
    definition_problems,
    parse_duration,
    read_definition,
)
from domain.flows.records import flow_vocabulary
from tests.fixtures.flows import DEFAULT_FLOWS
from tests.fixtures.sales_flows import LEAD_FOLLOW_UP, STALLED_DEAL

VALID: dict[str, Any] = {
    "key": "welcome",
    "name": "Welcome",
    "record_type": "contact",
    "trigger": {"event": "contact.created"},
    "steps": [
        {
            "id": "hello",
            "type": "send_email",
            "to": "emails.0",
            "subject": "Hello {first_name}",
            "body": "Dear {first_name} {last_name},\n\nwelcome.",
        },
        {"id": "pause", "type": "wait", "duration": "2d"},
        {
            "id": "answered",
            "type": "wait_for_signal",
            "event": "contact.transitioned",
            "status": "hot",
            "timeout": "3d",
            "on_timeout": "still-new",
            "goto": "tell",
        },
        {
            "id": "still-new",
            "type": "branch",
            "condition": {"field": "status", "operator": "eq", "value": "new"},
            "then": "cool",
            "else": "done",
        },
        {"id": "cool", "type": "transition", "event": "mark_cold", "goto": "done"},
        {"id": "tell", "type": "notify", "to": "owner", "message": "{first_name} is hot"},
        {"id": "done", "type": "end"},
    ],
}


def with_step(index: int, **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(VALID)
    document["steps"][index].update(changes)
    return document


def problems(document: Any) -> list[str]:
    return [str(problem) for problem in definition_problems(document, flow_vocabulary())]


def test_the_default_flows_in_temporal_yaml_are_valid() -> None:
    keys = [definition.key for definition in load_default_flows(DEFAULT_FLOWS)]

    assert keys == [
        "contact-nurture",
        "customer-onboarding",
        "contact-conversion",
        "calling-task-reminders",
    ]


def test_a_valid_definition_has_no_problems_and_reads_back_as_it_was_written() -> None:
    definition = read_definition(VALID, flow_vocabulary())

    assert problems(VALID) == []
    assert definition.document() == {**VALID, "description": "", "version": 1}


def test_an_unknown_goto_is_reported_at_its_path() -> None:
    assert problems(with_step(4, goto="x")) == ["steps[4].goto: unknown step 'x'"]


@pytest.mark.parametrize(
    ("index", "change", "expected"),
    [
        (2, {"on_timeout": "later"}, "steps[2].on_timeout: unknown step 'later'"),
        (3, {"then": "gone"}, "steps[3].then: unknown step 'gone'"),
        (3, {"else": "gone"}, "steps[3].else: unknown step 'gone'"),
        (1, {"id": "hello"}, "steps[1].id: duplicate step id 'hello' (also steps[0])"),
    ],
)
def test_every_step_reference_is_checked(index: int, change: dict[str, Any], expected: str) -> None:
    assert expected in problems(with_step(index, **change))


def test_a_step_nothing_leads_to_is_unreachable() -> None:
    document = copy.deepcopy(VALID)
    document["steps"].append({"id": "orphan", "type": "end"})  # after the end step

    assert problems(document) == ["steps[7]: step 'orphan' is unreachable from the first step"]


def test_a_loop_without_a_wait_is_refused_and_one_with_a_wait_is_not() -> None:
    busy = with_step(4, goto="still-new")  # still-new -> cool -> still-new, no time passing
    patient = with_step(4, goto="pause")  # the loop goes through a two-day wait

    assert problems(busy) == [
        "steps[3]: steps 'still-new', 'cool' form a cycle without a wait "
        "(add a wait or wait_for_signal to it)"
    ]
    assert problems(patient) == []


def test_a_wait_until_a_past_time_does_not_count_as_a_wait_in_a_loop() -> None:
    document = with_step(1, duration=None, until="2020-01-01T00:00:00Z")
    del document["steps"][1]["duration"]
    document["steps"][4]["goto"] = "pause"
    document["steps"][1]["goto"] = "still-new"

    assert any("cycle without a wait" in problem for problem in problems(document))


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("3x", "steps[1].duration: '3x' is not a duration like 30m, 2h, 3d or 1w2d"),
        ("", "steps[1].duration: '' is not a duration like 30m, 2h, 3d or 1w2d"),
        ("0s", "steps[1].duration: '0s' must be between 1s and 366d"),
        ("400d", "steps[1].duration: '400d' must be between 1s and 366d"),
        ("d3", "steps[1].duration: 'd3' is not a duration like 30m, 2h, 3d or 1w2d"),
    ],
)
def test_bad_durations_are_refused(duration: str, message: str) -> None:
    assert problems(with_step(1, duration=duration)) == [message]


def test_durations_combine_units_largest_first() -> None:
    assert parse_duration("1w2d3h4m5s") == timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)
    assert parse_duration("90m") == timedelta(minutes=90)


def test_a_wait_needs_either_a_duration_or_an_until() -> None:
    both = with_step(1, until="2030-01-01T09:00:00+00:00")
    neither = copy.deepcopy(VALID)
    del neither["steps"][1]["duration"]

    assert problems(both) == ["steps[1]: give either duration or until"]
    assert problems(neither) == ["steps[1]: give either duration or until"]


def test_a_wait_until_a_time_needs_a_time_zone() -> None:
    document = with_step(1, until="2030-01-01T09:00:00")
    del document["steps"][1]["duration"]

    assert problems(document) == ["steps[1].until: Input should have timezone info"]


def test_too_many_steps_are_refused() -> None:
    document = copy.deepcopy(VALID)
    document["steps"] = [
        {"id": f"wait-{i}", "type": "wait", "duration": "1h"} for i in range(MAX_STEPS + 1)
    ]

    assert problems(document) == [
        f"steps: List should have at most {MAX_STEPS} items after validation, not {MAX_STEPS + 1}"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"subject": "x" * 201}, "steps[0].subject: String should have at most 200 characters"),
        ({"body": "x" * 10_001}, "steps[0].body: String should have at most 10000 characters"),
        ({"subject": "Hi\nBcc: all@example.com"}, "steps[0].subject: must be one line"),
    ],
)
def test_oversized_or_multiline_text_is_refused(change: dict[str, Any], expected: str) -> None:
    assert problems(with_step(0, **change)) == [expected]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {first_name!r}", "'{first_name!r} is not a record field like {first_name}'"),
        ("Hi {first_name:>99}", "{first_name:>99} is not a record field like {first_name}"),
        ("Hi {0}", "{0} is not a record field like {first_name}"),
        ("Hi {", "stray '{' at position 3 (write {{ for a brace)"),
    ],
)
def test_templates_allow_only_plain_field_variables(template: str, expected: str) -> None:
    [problem] = problems(with_step(0, subject=template))

    assert problem.startswith("steps[0].subject: ")
    assert expected.strip("'") in problem


def test_template_fields_must_exist_on_the_record() -> None:
    document = with_step(0, body="{address.city} {emails.1} {phones} {salary}")

    assert problems(document) == ["steps[0].body: unknown field {salary}"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (with_step(4, event="promote"), "steps[4].event: unknown lifecycle event 'promote'"),
        (with_step(2, status="happy"), "steps[2].status: unknown status 'happy'"),
        (with_step(2, event="contact.merged"), "steps[2].event: unknown event 'contact.merged'"),
        (
            with_step(3, condition={"field": "status", "operator": "in", "value": ["new", "x"]}),
            "steps[3].condition.value: unknown status 'x'",
        ),
        (with_step(3, condition={"field": "mood", "value": 1}), "steps[3].condition.field"),
        (with_step(0, to="email"), "steps[0].to: unknown field 'email'"),
        ({**VALID, "record_type": "invoice"}, "record_type: unknown record type 'invoice'"),
        (
            {**VALID, "trigger": {"event": "contact.created", "status": "hot"}},
            "trigger.status: a status can only be given with contact.transitioned",
        ),
    ],
)
def test_names_are_checked_against_the_lifecycle_machines_and_record_fields(
    document: dict[str, Any], expected: str
) -> None:
    found = problems(document)

    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_the_vocabulary_is_derived_from_the_contact_machine() -> None:
    contact = flow_vocabulary()["contact"]

    assert contact.states == {"new", "hot", "cold", "not_interested", "converted"}
    assert "mark_hot" in contact.lifecycle_events
    assert "contact.deleted" not in contact.events
    assert {"address.city", "emails"} <= contact.fields


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"id": "x"}, "steps[0]: a step needs a type: one of"),
        ({"id": "x", "type": "sleep"}, "steps[0]: unknown step type 'sleep'"),
        ({"id": "x", "type": "end", "goto": "y"}, "steps[0].goto: unknown field"),
        ({"id": "X!", "type": "end"}, "steps[0].id: 'X!' is not a step id"),
        ({"id": "x", "type": "notify", "message": "m", "to": "bob"}, "steps[0].to: 'bob' is not"),
        (
            {"id": "x", "type": "send_email", "to": "a@", "subject": "s", "body": "b"},
            "steps[0].to: 'a@' is not an email address",
        ),
        (
            {"id": "x", "type": "wait_for_signal", "event": "contact.created", "on_timeout": "x"},
            "steps[0]: give either timeout or until",
        ),
        (
            {"id": "x", "type": "notify", "message": "m", "to": "role:boss"},
            "steps[0].to: 'boss' is not a role",
        ),
        (
            {"id": "x", "type": "repeat", "times": 0, "again": "x", "then": "x"},
            "steps[0].times",
        ),
    ],
)
def test_malformed_steps_are_reported_in_plain_words(step: dict[str, Any], expected: str) -> None:
    document = {**VALID, "steps": [step]}

    assert problems(document)[0].startswith(expected), problems(document)


def test_a_trigger_is_an_event_or_manual_not_both() -> None:
    both = {**VALID, "trigger": {"event": "contact.created", "manual": True}}

    assert problems(both) == ["trigger: give either an event or manual: true"]


def test_reading_an_invalid_definition_raises_with_every_problem() -> None:
    document = with_step(4, goto="x")
    document["steps"][1]["duration"] = "soon"

    with pytest.raises(InvalidDefinition) as invalid:
        read_definition(document)

    assert [str(p) for p in invalid.value.problems] == [
        "steps[1].duration: 'soon' is not a duration like 30m, 2h, 3d or 1w2d",
        "steps[4].goto: unknown step 'x'",
    ]


def test_a_malformed_part_does_not_hide_the_problems_of_the_others() -> None:
    document = with_step(0, type="shout")  # the first step does not parse
    document["trigger"] = {"event": "contact.vanished"}
    document["steps"][1]["duration"] = "soon"
    document["steps"][3]["then"] = "hello"  # a reference to the malformed step is fine
    document["steps"][4].update(goto="x", event="mark_warm")

    assert problems(document) == [
        "steps[0]: unknown step type 'shout' (known: assign, branch, create_calling_task, end, "
        "notify, repeat, send_email, transition, wait, wait_for_signal)",
        "steps[1].duration: 'soon' is not a duration like 30m, 2h, 3d or 1w2d",
        "steps[4].goto: unknown step 'x'",
        "trigger.event: unknown event 'contact.vanished' for contact records "
        "(known: contact.created, contact.transitioned, contact.updated)",
        "steps[4].event: unknown lifecycle event 'mark_warm' for contact records "
        "(known: convert, mark_cold, mark_hot, mark_not_interested, reopen)",
    ]


def test_a_step_without_goto_continues_with_the_next_and_the_last_one_ends() -> None:
    definition = FlowDefinition.model_validate(VALID)

    assert definition.following(definition.step("hello")) == "pause"
    assert definition.following(definition.step("answered")) == "tell"
    assert definition.following(definition.step("tell")) == "done"
    assert definition.successors(definition.step("answered")) == ["tell", "still-new"]
    assert definition.listens_to() == ["contact.transitioned"]


RECORD = {
    "first_name": "Ada",
    "status": "hot",
    "tags": ["vip", "london"],
    "latitude": 51.5,
    "owner_id": None,
    "address": {"city": "London"},
}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ({"field": "status", "value": "hot"}, True),
        ({"field": "status", "operator": "ne", "value": "hot"}, False),
        ({"field": "status", "operator": "in", "value": ["new", "hot"]}, True),
        ({"field": "status", "operator": "not_in", "value": ["new", "hot"]}, False),
        ({"field": "tags", "operator": "contains", "value": "vip"}, True),
        ({"field": "first_name", "operator": "contains", "value": "ADA"}, True),
        ({"field": "owner_id", "operator": "empty"}, True),
        ({"field": "tags", "operator": "not_empty"}, True),
        ({"field": "latitude", "operator": "gt", "value": 50}, True),
        ({"field": "latitude", "operator": "lte", "value": 50}, False),
        ({"field": "first_name", "operator": "gt", "value": 1}, False),
        ({"field": "address.city", "value": "London"}, True),
        ({"field": "missing", "value": "x"}, False),
        ({"field": "missing", "operator": "empty"}, True),
    ],
)
def test_conditions_over_record_fields(condition: dict[str, Any], holds: bool) -> None:
    assert Condition.model_validate(condition).holds(RECORD) is holds


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "status", "operator": "in", "value": "hot"}, "in needs a list of values"),
        ({"field": "status", "operator": "empty", "value": "x"}, "empty takes no value"),
        ({"field": "status"}, "eq needs one value"),
        ({"field": "status", "value": {"a": 1}}, "must be a number, true/false"),
    ],
)
def test_condition_values_must_fit_the_operator(condition: dict[str, Any], message: str) -> None:
    document = with_step(3, condition=condition)

    assert message in problems(document)[0]


CALLS: dict[str, Any] = {
    "key": "onboarding",
    "name": "On-boarding",
    "record_type": "customer",
    "trigger": {"event": "customer.created"},
    "steps": [
        {
            "id": "call",
            "type": "create_calling_task",
            "title": "Call {name}",
            "notes": "Ask for {billing_email}",
            "due_in": "1d",
            "assignee": "role:customer_support",
        },
        {
            "id": "called",
            "type": "wait_for_signal",
            "event": "calling_task.transitioned",
            "task": "call",
            "status": "done",
            "timeout": "3d",
            "on_timeout": "remind",
            "goto": "hand-over",
        },
        {"id": "remind", "type": "notify", "to": "assignee:call", "message": "{name}?"},
        {"id": "again", "type": "repeat", "times": 3, "again": "called", "then": "hand-over"},
        {"id": "hand-over", "type": "assign", "to": "assignee:call", "as": "operations"},
        {"id": "done", "type": "end"},
    ],
}


def calls_with(index: int, **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(CALLS)
    document["steps"][index].update(changes)
    return document


def test_a_customer_flow_creates_a_task_waits_for_it_reminds_and_assigns() -> None:
    assert problems(CALLS) == []
    definition = read_definition(CALLS, flow_vocabulary())
    assert definition.listens_to() == ["calling_task.transitioned"]
    assert definition.successors(definition.step("again")) == ["called", "hand-over"]
    # Defaults are written out, so an exported document says what the run does.
    call = definition.document()["steps"][0]
    assert (call["about"], call["assignee"]) == ("record", "role:customer_support")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (calls_with(0, about="contact"), "steps[0].about: cannot call about 'contact' here"),
        (calls_with(0, title="Call {first_name}"), "steps[0].title: unknown field {first_name}"),
        (calls_with(1, status="finished"), "steps[1].status: unknown status 'finished'"),
        (calls_with(1, task="remind"), "steps[1].task: step 'remind' does not create a calling"),
        (calls_with(2, to="assignee:nobody"), "steps[2].to: unknown step 'nobody'"),
        (calls_with(4, **{"as": "support"}), "steps[4].as: customer records cannot be assigned"),
        (calls_with(3, then="nowhere"), "steps[3].then: unknown step 'nowhere'"),
        (
            calls_with(1, event="customer.transitioned", status="active"),
            "steps[1].task: task needs a calling_task event",
        ),
        (
            calls_with(1, event="deal.transitioned"),
            "steps[1].task: task needs a calling_task event",
        ),
    ],
)
def test_new_steps_are_checked_against_the_record_type(
    document: dict[str, Any], expected: str
) -> None:
    found = problems(document)

    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_a_calling_task_flow_reaches_the_assignee_as_owner_and_waits_until_its_due_time() -> None:
    document: dict[str, Any] = {
        "key": "reminders",
        "name": "Reminders",
        "record_type": "calling_task",
        "trigger": {"event": "calling_task.transitioned", "status": "scheduled"},
        "steps": [
            {
                "id": "before",
                "type": "wait_for_signal",
                "event": "calling_task.transitioned",
                "until": {"field": "due_at", "before": "1h"},
                "on_timeout": "remind",
                "goto": "done",
            },
            {"id": "remind", "type": "notify", "to": "owner", "message": "{subject} at {due_at}"},
            {"id": "done", "type": "end"},
        ],
    }
    assert problems(document) == []
    document["steps"][0]["until"]["field"] = "deadline"
    assert problems(document) == ["steps[0].until.field: unknown field 'deadline'"]
    # A task's own calling task events are its events, not those of a related record.
    document["steps"][0].update(until={"field": "due_at"}, task="before")
    assert problems(document)[0].startswith("steps[0].task: step 'before' does not create")


def test_customer_and_calling_task_vocabularies_come_from_their_machines() -> None:
    vocabulary = flow_vocabulary()
    customer, task = vocabulary["customer"], vocabulary["calling_task"]

    assert customer.states == {"draft", "new", "active", "inactive", "blocked"}
    assert "customer.contact_linked" in customer.events
    assert {"billing_email", "owner_id"} <= customer.fields
    assert customer.related == {"calling_task"}
    assert task.states == {"new", "scheduled", "rescheduled", "done", "aborted"}
    assert {"due_at", "subject", "notes", "owner_id"} <= task.fields
    assert task.assignable_as == {"owner"}


def test_leads_and_deals_take_flows_with_calls_about_them() -> None:
    assert problems(LEAD_FOLLOW_UP) == []
    assert problems(STALLED_DEAL) == []
    lead, deal = flow_vocabulary()["lead"], flow_vocabulary()["deal"]
    assert lead.lifecycle_events == {"qualify", "disqualify", "reopen", "convert"}
    assert lead.calls_about == deal.calls_about == {"record", "contact", "customer"}
    assert {"title", "services", "contact_id", "customer_id"} <= lead.fields
    assert {"name", "amount", "stage_id", "contact_id", "customer_id"} <= deal.fields
    assert deal.states == {"open", "won", "lost"}
    assert lead.related == deal.related == {"calling_task", "meeting"}


def test_a_deal_flow_cannot_change_its_status_but_may_wait_for_it() -> None:
    """A deal moves to a stage, and losing needs a reason: a flow can only wait for it."""
    document = copy.deepcopy(STALLED_DEAL)
    document["steps"][1] = {"id": "tell-owner", "type": "transition", "event": "win"}

    assert problems(document) == [
        "steps[1].event: flows change no deal status (wait for its changes instead)"
    ]
    document["steps"][0]["status"] = "won"
    document["steps"][1] = {"id": "tell-owner", "type": "notify", "to": "owner", "message": "!"}
    assert problems(document) == []
    document["steps"][0]["status"] = "closed"
    assert problems(document)[0].startswith("steps[0].status: unknown status 'closed'")


def test_stop_conditions_are_listed_by_name_and_reach_the_run_as_their_events() -> None:
    document = {**VALID, "stop_when": ["replied", "converted", "calling_task_done"]}

    definition = read_definition(document, flow_vocabulary())

    assert definition.stop_when == ["replied", "converted", "calling_task_done"]
    assert definition.document()["stop_when"] == ["replied", "converted", "calling_task_done"]
    assert definition.listens_to() == [
        "calling_task.transitioned",
        "contact.transitioned",
        "email.received",
    ]
    # Versions written before stop_when existed read back unchanged.
    assert "stop_when" not in read_definition(VALID).document()


@pytest.mark.parametrize(
    ("stop_when", "expected"),
    [
        (
            ["replied", "answered"],
            "stop_when[1]: unknown stop condition (known: replied, converted, "
            "not_interested, unsubscribed, calling_task_done)",
        ),
        (["replied", "unsubscribed", "replied"], "stop_when: listed more than once: replied"),
        ("replied", "stop_when: Input should be a valid list"),
    ],
)
def test_bad_stop_conditions_are_refused(stop_when: Any, expected: str) -> None:
    assert problems({**VALID, "stop_when": stop_when}) == [expected]


@pytest.mark.parametrize("record_type", ["customer", "lead", "deal"])
def test_stop_conditions_are_about_contacts_only(record_type: str) -> None:
    document = copy.deepcopy(STALLED_DEAL if record_type == "deal" else LEAD_FOLLOW_UP)
    if record_type == "customer":
        document = {
            "key": "cust",
            "name": "Customer",
            "record_type": "customer",
            "trigger": {"event": "customer.created"},
            "steps": [{"id": "pause", "type": "wait", "duration": "1d"}],
        }

    found = problems({**document, "stop_when": ["replied"]})

    assert found == [
        "stop_when: stop conditions are about a contact (its replies, status, consent and "
        f"calling tasks): flows on {record_type} records cannot use them"
    ]


@pytest.mark.parametrize(
    ("event_type", "status", "opted_out", "expected"),
    [
        ("email.received", None, None, "replied"),
        ("contact.transitioned", "converted", None, "converted"),
        ("contact.transitioned", "not_interested", None, "not_interested"),
        ("contact.transitioned", "hot", None, None),
        ("calling_task.transitioned", "done", None, "calling_task_done"),
        ("calling_task.transitioned", "aborted", None, None),
        ("message_preference.updated", None, ["sales"], "unsubscribed"),
        ("message_preference.updated", None, ["sales", "marketing", "greetings"], "unsubscribed"),
        # Out of greetings only: the flow sends none, it goes on.
        ("message_preference.updated", None, ["greetings"], None),
        ("message_preference.updated", None, None, None),  # a channel or topics change
        ("contact.updated", None, None, None),
    ],
)
def test_which_events_meet_which_stop_condition(
    event_type: str, status: str | None, opted_out: list[str] | None, expected: str | None
) -> None:
    definition = read_definition(
        {
            **VALID,
            "stop_when": [
                "replied",
                "converted",
                "not_interested",
                "unsubscribed",
                "calling_task_done",
            ],
        }
    )

    assert definition.stop_condition(event_type, status, opted_out) == expected


def test_unsubscribing_counts_for_the_kinds_the_flow_sends() -> None:
    document = with_step(0, kind="marketing")
    definition = read_definition({**document, "stop_when": ["unsubscribed"]})

    assert definition.sent_kinds() == {"marketing"}
    assert definition.stop_condition("message_preference.updated", None, ["marketing"])
    assert not definition.stop_condition("message_preference.updated", None, ["sales"])


def test_unsubscribing_from_everything_stops_even_a_flow_that_sends_no_email() -> None:
    definition = read_definition(
        {**VALID, "steps": VALID["steps"][1:], "stop_when": ["unsubscribed"]}
    )
    everything = ["greetings", "marketing", "sales"]

    assert definition.sent_kinds() == frozenset()
    assert definition.stop_condition("message_preference.updated", None, everything)
    assert not definition.stop_condition("message_preference.updated", None, ["sales"])
