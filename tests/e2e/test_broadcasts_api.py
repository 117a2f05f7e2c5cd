"""The issue's "done when", through GraphQL and HTTP: an admin publishes a greeting and
schedules it to a tagged audience; a sales person sends a template to a contact; the messages
land in the SMTP server with unsubscribe headers and the agency's footer; a contact who
unsubscribed through the page gets nothing more. Then marketing's view of progress, cancel,
and refusals."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from strawberry import relay

from domain.roles import Role
from tests.e2e.colleagues import colleague
from tests.e2e.conftest import Api
from tests.e2e.test_message_templates_api import create, publish
from tests.fixtures.flows import Flows
from tests.fixtures.messaging import unsubscribe_link
from tests.fixtures.smtp import SmtpServer

ERRORS = "errors { field code message }"
BROADCAST = (
    "id name status recordType audience recurrence "
    "runs { occurrence status targeted sent failed skipped }"
)
CREATE = f"""mutation($input: CreateBroadcastInput!) {{
  createBroadcast(input: $input) {{ broadcast {{ {BROADCAST} }} {ERRORS} }}
}}"""
CANCEL = f"""mutation($id: ID!) {{
  cancelBroadcast(input: {{id: $id}}) {{ broadcast {{ status }} {ERRORS} }}
}}"""
READ = f"""query($id: ID!) {{ node(id: $id) {{ ... on Broadcast {{ {BROADCAST} }} }} }}"""
SEND = f"""mutation($input: SendMessageInput!) {{
  sendMessage(input: $input) {{ message {{ id status }} {ERRORS} }}
}}"""
GREETING = {
    "key": "new-year",
    "name": "New year",
    "kind": "GREETINGS",
    "subject": "Happy new year, {{ recipient.first_name }}",
    "textBody": "All the best from {{ agency.name }}.",
}


async def contact(api: Api, name: str, tags: list[str]) -> str:
    return await api.created(
        "CreateContactInput",
        "createContact",
        "contact",
        {"firstName": name, "emails": [f"{name.lower()}@example.com"], "tags": tags},
    )


async def schedule(api: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.graphql(CREATE, {"input": fields}))["createBroadcast"]
    return payload


async def finish(sending: Flows, broadcast_id: str) -> None:
    await sending.relay_all()
    node = relay.GlobalID.from_id(broadcast_id).node_id
    handle = sending.client.get_workflow_handle(f"broadcast-{sending.agency_id}-{node}")
    async with sending.worker():
        await sending.result(handle)


async def test_greetings_reach_the_tagged_audience_except_who_unsubscribed(
    api: Api, sending: Flows, smtp_server: SmtpServer
) -> None:
    assert (await create(api, **GREETING))["errors"] == []
    assert (await publish(api, "new-year"))["errors"] == []
    rep, _ = await colleague(api, Role.SALES_PERSON)
    ada = await contact(rep, "Ada", ["vip"])
    await contact(rep, "Grace", ["vip"])
    await contact(rep, "Linus", [])
    # A sales person's own message to Ada, and Ada unsubscribes through its link.
    sent = await rep.graphql(SEND, {"input": {"recordId": ada, "template": "new-year"}})
    assert sent["sendMessage"]["errors"] == []
    await sending.relay_all()
    async with sending.worker():
        handle = sending.client.get_workflow_handle(
            f"message-{sending.agency_id}-"
            f"{relay.GlobalID.from_id(sent['sendMessage']['message']['id']).node_id}"
        )
        await sending.result(handle)
    [first] = smtp_server.messages
    assert first.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_link(first.message["List-Unsubscribe"]).removeprefix("http://127.0.0.1:8000")
    assert (await api.client.post(link, data={"action": "everything"})).status_code == 200

    scheduled = await schedule(
        api,
        name="New year 2027",
        template="new-year",
        audience={"contacts": {"tags": ["vip"]}},
        sendAt=(datetime.now(UTC) + timedelta(days=20)).isoformat(),
        timeZone="Europe/London",
    )
    assert scheduled["errors"] == []
    broadcast = scheduled["broadcast"]
    assert (broadcast["status"], broadcast["recordType"]) == ("SCHEDULED", "contact")
    assert broadcast["audience"] == {"tags": ["vip"]}
    await finish(sending, broadcast["id"])

    later = smtp_server.messages[1:]
    assert Counter(a for m in later for a in m.rcpt_tos) == Counter({"grace@example.com": 1})
    [greeting] = later
    assert greeting.message["Subject"] == "Happy new year, Grace"
    assert greeting.message["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")
    plain = greeting.message.get_body(("plain",))
    assert plain is not None
    body = plain.get_content()
    assert "All the best from Acme." in body
    assert "1 Fleet Street, EC4Y 1AA London, GB" in body
    done = (await api.graphql(READ, {"id": broadcast["id"]}))["node"]
    assert done["status"] == "SENT"
    [run] = done["runs"]
    assert (run["status"], run["targeted"], run["sent"], run["failed"]) == ("SENT", 2, 1, 0)
    assert run["skipped"] == {"opted_out": 1}


async def test_marketing_schedules_and_cancels_and_others_may_not(api: Api, sending: Flows) -> None:
    assert (await create(api, **GREETING))["errors"] == []
    assert (await publish(api, "new-year"))["errors"] == []
    marketer, _ = await colleague(api, Role.MARKETING)
    rep, _ = await colleague(api, Role.SALES_PERSON)
    when = (datetime.now(UTC) + timedelta(days=2)).isoformat()

    refused = await schedule(rep, name="Mine", template="new-year", sendAt=when)
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    made = await schedule(marketer, name="Spring", template="new-year", sendAt=when)
    assert made["errors"] == []
    cancelled = (await marketer.graphql(CANCEL, {"id": made["broadcast"]["id"]}))["cancelBroadcast"]
    assert cancelled == {"broadcast": {"status": "CANCELLED"}, "errors": []}
    again = (await marketer.graphql(CANCEL, {"id": made["broadcast"]["id"]}))["cancelBroadcast"]
    assert [e["code"] for e in again["errors"]] == ["NOT_CANCELLABLE"]
    await finish(sending, made["broadcast"]["id"])
    assert (await api.graphql(READ, {"id": made["broadcast"]["id"]}))["node"]["runs"] == []


async def test_a_broadcast_that_cannot_be_sent_is_refused_with_typed_errors(api: Api) -> None:
    assert (await create(api, **GREETING))["errors"] == []
    assert (await create(api, key="invoice", kind="TRANSACTIONAL"))["errors"] == []
    assert (await publish(api, "invoice"))["errors"] == []
    assert (await create(api, key="promo", kind="MARKETING"))["errors"] == []
    assert (await publish(api, "promo"))["errors"] == []
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    cases: dict[str, dict[str, Any]] = {
        "TEMPLATE_NOT_FOUND": {"template": "nope", "sendAt": soon},
        "NOT_PUBLISHED": {"template": "new-year", "sendAt": soon},
        "TRANSACTIONAL": {"template": "invoice", "sendAt": soon},
        "IN_THE_PAST": {"template": "promo", "sendAt": "2020-01-01T00:00:00Z"},
        "INVALID_AUDIENCE": {
            "template": "new-year",
            "sendAt": soon,
            "audience": {"contacts": {"tags": ["x"]}, "customers": {"tags": ["y"]}},
        },
        "UNKNOWN_DATE_FIELD": {
            "template": "promo",
            "sendAt": soon,
            "recurrence": "YEARLY_ON_FIELD",
            "dateField": "custom_fields.birthday",
        },
        "INVALID_TIME_ZONE": {"template": "promo", "sendAt": soon, "timeZone": "Mars/Olympus"},
    }
    for code, fields in cases.items():
        errors = (await schedule(api, name="X", **fields))["errors"]
        assert code in [e["code"] for e in errors], (code, errors)
    assert (await api.graphql("{ broadcasts { id } }"))["broadcasts"] == []
