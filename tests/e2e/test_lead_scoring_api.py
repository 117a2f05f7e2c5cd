"""Lead scoring over GraphQL: admins publish versioned rules; an integrator reports page
visits; a contact's score is explained rule by rule, and reaching the threshold makes a New
contact Hot (a lifecycle event flows trigger on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from strawberry import relay

from db.events import Event
from db.users import User
from domain import api_keys, meetings
from domain.actors import ApiScope
from tests.e2e.colleagues import acme_system
from tests.e2e.conftest import ADMIN_EMAIL, Api

PUBLISH = """
mutation($input: PublishScoringRulesInput!) {
  publishScoringRules(input: $input) {
    scoringRules { version threshold halfLifeDays rules { name kind behaviour points } }
    errors { field code }
  }
}"""
RECORD = """
mutation($input: RecordContactBehaviourInput!) {
  recordContactBehaviour(input: $input) {
    score { total qualified parts { rule points matches } }
    errors { field code }
  }
}"""
SCORE = """
query($id: ID!, $asOf: DateTime) {
  contactScore(contactId: $id, asOf: $asOf) {
    total threshold qualified version parts { rule points matches }
  }
}"""
CONTACT = """
mutation {
  createContact(input: {firstName: "Ada", jobTitle: "IT Director", tags: ["vip"],
      emails: ["ada@example.com"]}) {
    contact { id status }
  }
}"""
STATUS = "query($id: ID!) { contact(id: $id) { status } }"
RULES: list[dict[str, Any]] = [
    {
        "name": "Decision maker",
        "kind": "FIELD",
        "field": "job_title",
        "operator": "CONTAINS",
        "value": "director",
        "points": 20,
    },
    {"name": "VIP", "kind": "TAG", "value": "vip", "points": 10},
    {
        "name": "Pricing page",
        "kind": "BEHAVIOUR",
        "behaviour": "PAGE_VISIT",
        "value": "https://acme.example.com/pricing",
        "points": 15,
    },
]


async def test_page_visits_reported_by_an_integrator_make_a_contact_hot_with_an_explanation(
    api: Api,
) -> None:
    published = await api.graphql(PUBLISH, {"input": {"rules": RULES, "halfLifeDays": 14}})
    assert published["publishScoringRules"]["errors"] == []
    assert published["publishScoringRules"]["scoringRules"]["threshold"] == 50
    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    key = await api_keys.create_api_key(
        await acme_system(), "website", [ApiScope.READ, ApiScope.WRITE], None
    )
    website = api.as_(key.secret)

    async def visit(url: str) -> dict[str, Any]:
        answer = await website.graphql(
            RECORD, {"input": {"contactId": contact, "behaviour": "PAGE_VISIT", "detail": url}}
        )
        payload: dict[str, Any] = answer["recordContactBehaviour"]
        assert payload["errors"] == []
        return payload

    first = await visit("https://acme.example.com/pricing")
    assert (first["score"]["total"], first["score"]["qualified"]) == (45, False)
    assert (await api.graphql(STATUS, {"id": contact}))["contact"]["status"] == "NEW"
    await visit("https://acme.example.com/blog/why")  # no rule counts the blog

    second = await visit("https://acme.example.com/pricing/enterprise")

    assert second["score"]["total"] == 60
    assert second["score"]["parts"] == [
        {"rule": "Decision maker", "points": 20.0, "matches": 1},
        {"rule": "VIP", "points": 10.0, "matches": 1},
        {"rule": "Pricing page", "points": 30.0, "matches": 2},
    ]
    assert (await api.graphql(STATUS, {"id": contact}))["contact"]["status"] == "HOT"
    hot = await Event.filter(type="contact.transitioned", aggregate_id=contact_uuid(contact))
    assert [(e.payload["event"], e.payload["to"]) for e in hot] == [("mark_hot", "hot")]
    # Four weeks on, the visits are worth a quarter: the score tells, read at that moment.
    later = (datetime.now(UTC) + timedelta(days=28)).isoformat()
    ahead = (await api.graphql(SCORE, {"id": contact, "asOf": later}))["contactScore"]
    assert (ahead["total"], ahead["qualified"], ahead["version"]) == (38, False, 1)


async def test_scoring_rules_are_versioned_and_checked_and_behaviour_reports_are_bounded(
    api: Api,
) -> None:
    await api.graphql(PUBLISH, {"input": {"rules": RULES}})
    met = {"name": "Met", "kind": "BEHAVIOUR", "behaviour": "MEETING_HELD", "points": 25}
    again = await api.graphql(PUBLISH, {"input": {"rules": [RULES[0], met], "threshold": 20}})
    assert again["publishScoringRules"]["scoringRules"]["version"] == 2
    broken = [{"name": "Visits", "kind": "BEHAVIOUR", "points": 5}]
    refused = (await api.graphql(PUBLISH, {"input": {"rules": broken}}))["publishScoringRules"]
    assert [e["code"] for e in refused["errors"]] == ["INVALID"]

    contact = (await api.graphql(CONTACT))["createContact"]["contact"]["id"]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    report = {"contactId": contact, "behaviour": "EMAIL_OPENED", "occurredAt": future}
    answer = (await api.graphql(RECORD, {"input": report}))["recordContactBehaviour"]
    assert answer["errors"] == [{"field": "occurredAt", "code": "OUT_OF_RANGE"}]
    score = (await api.graphql(SCORE, {"id": contact}))["contactScore"]
    assert (score["total"], score["threshold"], score["version"]) == (20, 20, 2)

    # A meeting held with the contact is behaviour the CRM notes by itself.
    system = await acme_system()
    admin = await User.get(email=ADMIN_EMAIL)
    meeting = await meetings.propose_meeting(
        system,
        {
            "contact_id": UUID(contact_uuid(contact)),
            "owner_id": admin.id,
            "title": "Demo",
            "slots": [datetime(2090, 1, 1, 9, tzinfo=UTC)],
            "duration_minutes": 30,
        },
    )
    await meetings.book_meeting(meeting.id, (await meetings.slots_of(meeting))[0].id)
    await meetings.hold_meeting(system, meeting.id)
    score = (await api.graphql(SCORE, {"id": contact}))["contactScore"]
    assert score["total"] == 45
    assert score["parts"][-1] == {"rule": "Met", "points": 25.0, "matches": 1}


def contact_uuid(global_id: str) -> str:
    return relay.GlobalID.from_id(global_id).node_id
