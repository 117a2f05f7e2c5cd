"""A person's notifications over GraphQL: their own only, newest first, marked read by them."""

from __future__ import annotations

from uuid import UUID

from strawberry import relay
from tortoise.transactions import in_transaction

from db.messages import Message
from db.notifications import Notification
from db.users import User
from domain.actors import ApiScope
from domain.api_keys import create_api_key
from domain.notifications import notify_user
from domain.roles import Role
from tests.e2e.colleagues import acme_system, colleague
from tests.e2e.conftest import ADMIN_EMAIL, Api
from tests.fixtures.flows import Flows
from tests.fixtures.smtp import SmtpServer

LIST = """
query($unread: Boolean!) {
  notifications(first: 10, unreadOnly: $unread) {
    edges { node { id message source recordId readAt } }
  }
  unreadNotificationCount
}"""
MARK = """
mutation($ids: [ID!]) {
  markNotificationsRead(input: {ids: $ids}) { marked errors { field code } }
}"""


async def notify(user_id: UUID, message: str, record_type: str = "", record_id: str = "") -> None:
    system = await acme_system()
    async with in_transaction() as connection:
        await notify_user(system, user_id, message, record_type, record_id, "test", connection)


async def test_each_person_reads_and_clears_only_their_own(api: Api) -> None:
    admin = await User.get(email=ADMIN_EMAIL)
    sales, sales_id = await colleague(api, Role.SALES_PERSON)
    contact_id = "0b7c2f1e-8c8e-4c3e-9f55-2f2f3f5a6b7c"
    await notify(admin.id, "first", "contact", contact_id)
    await notify(admin.id, "second")
    await notify(sales_id, "for sales")

    data = await api.graphql(LIST, {"unread": False})
    nodes = [edge["node"] for edge in data["notifications"]["edges"]]
    assert [n["message"] for n in nodes] == ["second", "first"]
    assert nodes[1]["recordId"] == str(relay.GlobalID("Contact", contact_id))
    assert nodes[0]["recordId"] is None
    assert data["unreadNotificationCount"] == 2

    theirs = (await sales.graphql(LIST, {"unread": False}))["notifications"]["edges"]
    assert [edge["node"]["message"] for edge in theirs] == ["for sales"]
    # someone else's notification cannot be marked, and nothing is marked with it
    data = await api.graphql(MARK, {"ids": [nodes[0]["id"], theirs[0]["node"]["id"]]})
    assert data["markNotificationsRead"] == {
        "marked": 0,
        "errors": [{"field": "ids.1", "code": "NOT_FOUND"}],
    }
    assert await Notification.filter(read_at__isnull=False).count() == 0

    data = await api.graphql(MARK, {"ids": [nodes[0]["id"]]})
    assert data["markNotificationsRead"] == {"marked": 1, "errors": []}
    unread = await api.graphql(LIST, {"unread": True})
    assert [e["node"]["message"] for e in unread["notifications"]["edges"]] == ["first"]
    assert unread["unreadNotificationCount"] == 1
    data = await api.graphql(MARK, {"ids": None})
    assert data["markNotificationsRead"] == {"marked": 1, "errors": []}
    assert (await api.graphql(LIST, {"unread": False}))["unreadNotificationCount"] == 0
    assert (await sales.graphql(LIST, {"unread": True}))["unreadNotificationCount"] == 1


async def test_an_api_key_has_no_notifications(api: Api) -> None:
    key = await create_api_key(await acme_system(), "integration", [ApiScope.READ], None)
    response = await api.as_(key.secret).post({"query": "{ unreadNotificationCount }"})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


CHANNELS = "{ notificationChannels { kind channel } }"
SET_CHANNELS = """
mutation($channels: [NotificationChannelChoice!]!) {
  setNotificationChannels(input: {channels: $channels}) {
    channels { kind channel } errors { code }
  }
}"""
ASSIGN = """
mutation($input: CreateCallingTaskInput!) {
  createCallingTask(input: $input) { callingTask { id } errors { code message } }
}"""


async def give_a_call(api: Api, assignee: UUID, subject: str) -> None:
    contact_id = await api.created(
        "CreateContactInput", "createContact", "contact", {"firstName": "Ada"}
    )
    created = await api.graphql(
        ASSIGN,
        {
            "input": {
                "subject": subject,
                "contactId": contact_id,
                "assigneeId": str(relay.GlobalID("User", str(assignee))),
            }
        },
    )
    assert created["createCallingTask"]["errors"] == []


async def test_each_person_chooses_how_each_kind_reaches_them(
    api: Api, sending: Flows, smtp_server: SmtpServer
) -> None:
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    defaults = (await rep.graphql(CHANNELS))["notificationChannels"]
    assert {setting["channel"] for setting in defaults} == {"IN_APP"}
    assert {setting["kind"] for setting in defaults} == {
        "CALLING_TASK_ASSIGNED",
        "REMINDER",
        "ESCALATION",
        "FLOW",
        "SYSTEM",
        "CAMPAIGN_STATUS",
        "CAMPAIGN_ACTIVITY",
        "CAMPAIGN_SUMMARY",
        "RECORD_REASSIGNED",
    }

    chosen = (
        await rep.graphql(
            SET_CHANNELS,
            {"channels": [{"kind": "CALLING_TASK_ASSIGNED", "channel": "BOTH"}]},
        )
    )["setNotificationChannels"]
    assert chosen["errors"] == []
    assert {"kind": "CALLING_TASK_ASSIGNED", "channel": "BOTH"} in chosen["channels"]
    assert {"kind": "REMINDER", "channel": "IN_APP"} in chosen["channels"]
    await give_a_call(api, rep_id, "Discovery call")

    inbox = (await rep.graphql(LIST, {"unread": True}))["notifications"]["edges"]
    assert [edge["node"]["message"].split(", due")[0] for edge in inbox] == [
        "A calling task for you: Discovery call."
    ]
    await sending.relay_all()
    [queued] = await Message.filter(record_type="user", record_id=str(rep_id))
    async with sending.worker():
        handle = sending.client.get_workflow_handle(f"message-{queued.agency_id}-{queued.id}")
        await sending.result(handle)
    [email] = smtp_server.messages
    rep_user = await User.get(id=rep_id)
    assert email.rcpt_tos == [rep_user.email]
    assert email.message["Subject"] == "A calling task for you: Discovery call."
    assert "List-Unsubscribe" not in email.message

    await rep.graphql(
        SET_CHANNELS, {"channels": [{"kind": "CALLING_TASK_ASSIGNED", "channel": "NONE"}]}
    )
    await give_a_call(api, rep_id, "Second call")
    inbox = (await rep.graphql(LIST, {"unread": True}))["notifications"]["edges"]
    assert len(inbox) == 1, "nothing new in the inbox"
    assert await Message.filter(record_type="user", record_id=str(rep_id)).count() == 1


async def test_a_call_you_give_yourself_is_no_news(api: Api) -> None:
    admin = await User.get(email=ADMIN_EMAIL)
    await give_a_call(api, admin.id, "My own call")
    assert await Notification.filter(user_id=admin.id).count() == 0
