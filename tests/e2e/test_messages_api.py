"""Messages as people use them: a sales person sends a published template to a contact, a
real worker delivers it to a real SMTP server with the unsubscribe headers and the agency's
footer, the contact unsubscribes through the page's link, and later messages are skipped."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import SecretStr
from strawberry import relay
from temporalio.client import WorkflowHandle

from crm.settings import Settings
from domain.messages import Message
from domain.outbox import OutboxKind, OutboxMessage
from domain.roles import Role
from domain.signed_links import LinkConfig
from domain.unsubscribe_links import link_token
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api
from tests.e2e.test_message_templates_api import create, publish
from tests.fixtures.flows import Flows
from tests.fixtures.messaging import unsubscribe_link
from tests.fixtures.smtp import SmtpServer

ERRORS = "errors { field code message }"
MESSAGE = "id status reason kind subject recipients templateKey templateVersion source recordId"
SEND = f"""
mutation($input: SendMessageInput!) {{
  sendMessage(input: $input) {{ message {{ {MESSAGE} }} {ERRORS} }}
}}"""
READ = f"""query($id: ID!) {{ node(id: $id) {{ ... on Message {{ {MESSAGE} }} }} }}"""
PREFERENCES = """
query($id: ID!) {
  messagePreferences(recordId: $id) {
    receives channel topics history { optedIn optedOut source changedBy }
  }
}"""
UPDATE_PREFERENCES = f"""
mutation($input: UpdateMessagePreferencesInput!) {{
  updateMessagePreferences(input: $input) {{
    preferences {{ receives channel topics }} {ERRORS}
  }}
}}"""
OFFER = {
    "key": "spring-offer",
    "name": "Spring offer",
    "kind": "MARKETING",
    "subject": "Spring offer for {{ recipient.first_name }}",
    "textBody": "Hello {{ recipient.first_name }}, 20% off this week.",
    "htmlBody": "<p>Hello <b>{{ recipient.first_name }}</b>, 20% off this week.</p>",
}


async def a_contact(api: Api, email: str = "grace@example.com") -> str:
    return await api.created(
        "CreateContactInput",
        "createContact",
        "contact",
        {"firstName": "Grace", "lastName": "Hopper", "emails": [email] if email else []},
    )


async def send(api: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.graphql(SEND, {"input": fields}))["sendMessage"]
    return payload


async def delivered(sending: Flows, message_global_id: str) -> None:
    """Relay the outbox and let the worker deliver the message."""
    await sending.relay_all()
    message = await Message.get(id=int(relay.GlobalID.from_id(message_global_id).node_id))
    handle: WorkflowHandle[Any, Any] = sending.client.get_workflow_handle(
        f"message-{message.agency_id}-{message.id}"
    )
    async with sending.worker():
        await sending.result(handle)


async def test_a_sales_person_sends_a_template_and_the_contact_unsubscribes_through_the_page(
    api: Api, sending: Flows, smtp_server: SmtpServer
) -> None:
    assert (await create(api, **OFFER))["errors"] == []
    assert (await publish(api, "spring-offer"))["errors"] == []
    rep, _ = await colleague(api, Role.SALES_PERSON)
    contact_id = await a_contact(rep)

    sent = await send(rep, recordId=contact_id, template="spring-offer")

    assert sent["errors"] == []
    message = sent["message"]
    assert (message["status"], message["kind"], message["recipients"]) == (
        "QUEUED",
        "MARKETING",
        ["grace@example.com"],
    )
    assert (message["templateKey"], message["templateVersion"]) == ("spring-offer", 1)
    assert await OutboxMessage.filter(kind=OutboxKind.DELIVER_MESSAGE).count() == 1
    await delivered(sending, message["id"])
    after = (await rep.graphql(READ, {"id": message["id"]}))["node"]
    assert after["status"] == "SENT"
    [received] = smtp_server.messages
    email = received.message
    assert received.rcpt_tos == ["grace@example.com"]
    assert email["Subject"] == "Spring offer for Grace"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = unsubscribe_link(email["List-Unsubscribe"])
    text = email.get_body(("plain",))
    assert text is not None
    assert "Acme" in text.get_content()
    assert "1 Fleet Street, EC4Y 1AA London, GB" in text.get_content()
    assert link in text.get_content()

    path = link.removeprefix("http://127.0.0.1:8000")
    page = await api.client.get(path)
    assert page.status_code == 200
    assert "Acme" in page.text
    assert "g****@example.com" in page.text
    assert "grace@example.com" not in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    done = await api.client.post(path, data={"action": "everything"})
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text

    preferences = (await rep.graphql(PREFERENCES, {"id": contact_id}))["messagePreferences"]
    assert preferences["receives"] == ["TRANSACTIONAL"]
    assert preferences["history"] == [
        {
            "optedIn": [],
            "optedOut": ["GREETINGS", "MARKETING", "SALES"],
            "source": "LINK",
            "changedBy": "system:unsubscribe",
        }
    ]
    again = await send(rep, recordId=contact_id, template="spring-offer")
    await delivered(sending, again["message"]["id"])
    skipped = (await rep.graphql(READ, {"id": again["message"]["id"]}))["node"]
    assert (skipped["status"], skipped["reason"]) == ("SKIPPED", "opted_out")
    assert len(smtp_server.messages) == 1, "nothing more reached the contact"


async def test_one_click_turns_off_only_the_kind_of_the_message_it_came_in(
    api: Api, settings: Settings, sending: Flows
) -> None:
    contact_id = await a_contact(api)
    sent = await send(api, recordId=contact_id, subject="Our catalogue", body="Here it is.")
    message_id = int(relay.GlobalID.from_id(sent["message"]["id"]).node_id)
    token = link_token(settings.unsubscribe_links(), message_id)

    one_click = await api.client.post(
        f"/unsubscribe/{token}",
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert one_click.status_code == 200
    preferences = (await api.graphql(PREFERENCES, {"id": contact_id}))["messagePreferences"]
    assert preferences["receives"] == ["TRANSACTIONAL", "MARKETING", "GREETINGS"]
    assert preferences["history"][0]["source"] == "ONE_CLICK"


@pytest.mark.parametrize("tamper", ["forged", "altered", "expired", "gone"])
async def test_a_bad_link_gets_a_page_that_reveals_nothing(
    api: Api, settings: Settings, tamper: str
) -> None:
    contact_id = await a_contact(api)
    sent = await send(api, recordId=contact_id, subject="Hello", body="Hi.")
    message_id = int(relay.GlobalID.from_id(sent["message"]["id"]).node_id)
    links = settings.unsubscribe_links()
    if tamper == "forged":
        forger = LinkConfig(links.public_url, SecretStr("another-secret-entirely"))
        token = link_token(forger, message_id)
    elif tamper == "altered":
        good = link_token(links, message_id)
        token = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    elif tamper == "expired":
        token = link_token(
            LinkConfig(links.public_url, links.secret_key, lifetime=-links.lifetime), message_id
        )
    else:
        token = link_token(links, message_id + 1000)

    shown = await api.client.get(f"/unsubscribe/{token}")
    posted = await api.client.post(f"/unsubscribe/{token}", data={"action": "everything"})

    for response in (shown, posted):
        assert response.status_code == 404
        assert "This link does not work" in response.text
        assert "Acme" not in response.text
        assert "example.com" not in response.text
    preferences = (await api.graphql(PREFERENCES, {"id": contact_id}))["messagePreferences"]
    assert preferences["history"] == []


async def test_the_link_itself_is_not_written_to_the_request_log(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    contact_id = await a_contact(api)
    sent = await send(api, recordId=contact_id, subject="Hello", body="Hi.")
    token = link_token(
        settings.unsubscribe_links(), int(relay.GlobalID.from_id(sent["message"]["id"]).node_id)
    )

    with caplog.at_level(logging.INFO):
        await api.client.get(f"/unsubscribe/{token}")

    # The app's own lines (the test's HTTP client logs the URL it asked for, as a browser would).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("crm"))
    assert token not in logged
    assert "GET /unsubscribe/" in logged


async def test_send_message_refuses_what_cannot_be_sent_with_typed_errors(api: Api) -> None:
    contact_id = await a_contact(api)
    silent_id = await a_contact(api, email="")
    assert (await create(api, **OFFER))["errors"] == []

    cases = {
        "TEMPLATE_NOT_FOUND": {"recordId": contact_id, "template": "nope"},
        "NOT_PUBLISHED": {"recordId": contact_id, "template": "spring-offer"},
        "INVALID": {"recordId": contact_id, "template": "spring-offer", "subject": "x"},
        "REQUIRED": {"recordId": contact_id, "subject": "", "body": ""},
        "NO_ADDRESS": {"recordId": silent_id, "subject": "Hi", "body": "Hello"},
        "NOT_FOUND": {
            "recordId": relay.GlobalID("Deal", contact_id).__str__(),
            "subject": "Hi",
            "body": "x",
        },
    }
    for code, fields in cases.items():
        errors = (await send(api, **fields))["errors"]
        assert code in [error["code"] for error in errors], (code, errors)
    assert await Message.all().count() == 0, "nothing was queued"


async def test_people_message_only_contacts_they_can_see(api: Api) -> None:
    contact_id = await a_contact(api)
    rep, _ = await colleague(api, Role.SALES_PERSON)
    stranger = await other_agency_admin(api)

    for caller in (rep, stranger):
        errors = (await send(caller, recordId=contact_id, subject="Hi", body="x"))["errors"]
        assert [error["code"] for error in errors] == ["NOT_FOUND"]
        changed = (
            await caller.graphql(
                UPDATE_PREFERENCES, {"input": {"recordId": contact_id, "receives": []}}
            )
        )["updateMessagePreferences"]
        assert [error["code"] for error in changed["errors"]] == ["NOT_FOUND"]
    assert await Message.all().count() == 0


async def test_the_owner_sets_what_a_contact_receives_and_the_change_is_kept(api: Api) -> None:
    contact_id = await a_contact(api)

    changed = (
        await api.graphql(
            UPDATE_PREFERENCES,
            {
                "input": {
                    "recordId": contact_id,
                    "receives": ["TRANSACTIONAL", "SALES"],
                    "channel": "PHONE",
                    "topics": ["newsletter"],
                }
            },
        )
    )["updateMessagePreferences"]

    assert changed["errors"] == []
    assert changed["preferences"] == {
        "receives": ["TRANSACTIONAL", "SALES"],
        "channel": "PHONE",
        "topics": ["newsletter"],
    }
    history = (await api.graphql(PREFERENCES, {"id": contact_id}))["messagePreferences"]["history"]
    assert history[0]["optedOut"] == ["GREETINGS", "MARKETING"]
    assert history[0]["source"] == "AGENT"
    bad = (
        await api.graphql(
            UPDATE_PREFERENCES, {"input": {"recordId": contact_id, "topics": ["x" * 51]}}
        )
    )["updateMessagePreferences"]
    assert [error["code"] for error in bad["errors"]] == ["TOO_LONG"]
