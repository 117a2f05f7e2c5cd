"""A person's notifications over GraphQL: their own only, newest first, marked read by them."""

from __future__ import annotations

from uuid import UUID

from strawberry import relay
from tortoise.transactions import in_transaction

from db.notifications import Notification
from db.users import User
from domain.actors import ApiScope
from domain.api_keys import create_api_key
from domain.notifications import notify_user
from domain.roles import Role
from tests.e2e.colleagues import acme_system, colleague
from tests.e2e.conftest import ADMIN_EMAIL, Api

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
