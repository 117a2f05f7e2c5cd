"""The `events` subscription as an integrator uses it: over graphql-transport-ws, resumable by
cursor, and authorised like the queries (agency, role scope, API key scopes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect
from strawberry import relay
from tortoise.transactions import in_transaction

from db.events import Event
from domain import api_keys, users
from domain.actors import Actor, ApiScope
from domain.agencies import bootstrap_agency
from domain.event_subscriptions import event_cursor
from domain.events import append_event
from domain.roles import Role
from tests.e2e.conftest import Api, make_settings, open_api

EVENTS = """
subscription Follow($after: String, $filter: EventFilter) {
  events(after: $after, filter: $filter) {
    cursor id type recordType recordId nodeId occurredAt payload
  }
}"""
CREATE_CONTACT = """
mutation Create($name: String!, $owner: ID) {
  createContact(input: {firstName: $name, ownerId: $owner}) { contact { id } errors { code } }
}"""
TRANSITION = """
mutation Hot($id: ID!) {
  transitionContact(input: {id: $id, event: MARK_HOT}) { errors { code } }
}"""
PASSWORD = "long enough password"
WAIT = 10.0  # seconds; only reached when something is wrong


async def head_cursor() -> str:
    """The cursor of the newest event: following after it yields only what happens next."""
    newest = await Event.all().order_by("-id").first()
    return event_cursor(newest.id if newest else 0)


@asynccontextmanager
async def following(
    api: Api, token: str | None, variables: dict[str, Any] | None = None
) -> AsyncIterator[AsyncWebSocketSession]:
    """A websocket signed in with `token` (None: anonymous) and subscribed to `events`."""
    async with api.websocket() as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        assert (await ws.receive_json(timeout=WAIT))["type"] == "connection_ack"
        subscribe = {"query": EVENTS, "variables": variables or {}}
        await ws.send_json({"id": "events", "type": "subscribe", "payload": subscribe})
        yield ws


async def next_message(ws: AsyncWebSocketSession) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await ws.receive_json(timeout=WAIT)
        if message["type"] == "ping":
            await ws.send_json({"type": "pong"})
            continue
        return message


async def next_event(ws: AsyncWebSocketSession) -> dict[str, Any]:
    message = await next_message(ws)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message["payload"]["errors"]
    event: dict[str, Any] = message["payload"]["data"]["events"]
    return event


async def refusal(ws: AsyncWebSocketSession) -> str:
    """The code of the error that ended the subscription."""
    message = await next_message(ws)
    assert message["type"] in ("error", "next"), message
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return str(errors[0]["extensions"]["code"])


async def create_contact(api: Api, name: str, owner: str | None = None) -> str:
    data = await api.graphql(CREATE_CONTACT, {"name": name, "owner": owner})
    assert data["createContact"]["errors"] == []
    return str(data["createContact"]["contact"]["id"])


async def test_a_change_reaches_the_subscriber_with_its_cursor_and_record(api: Api) -> None:
    async with following(api, api.token, {"after": await head_cursor()}) as ws:
        contact_id = await create_contact(api, "Ada")
        event = await next_event(ws)
    assert event["type"] == "contact.created"
    assert event["recordType"] == "contact"
    assert event["nodeId"] == contact_id
    assert event["recordId"] == relay.GlobalID.from_id(contact_id).node_id
    assert event["payload"]["first_name"] == "Ada"
    assert event["occurredAt"]
    assert event["cursor"] == event_cursor(int(event["id"]))


async def test_reconnecting_with_a_cursor_receives_exactly_the_missed_events(api: Api) -> None:
    async with following(api, api.token, {"after": await head_cursor()}) as ws:
        first = await create_contact(api, "Before")
        seen = await next_event(ws)
    assert seen["nodeId"] == first

    # Offline: three changes happen.
    missed = await create_contact(api, "Missed")
    await api.graphql(TRANSITION, {"id": missed})
    await api.graphql(TRANSITION, {"id": first})

    async with following(api, api.token, {"after": seen["cursor"]}) as ws:
        replayed = [await next_event(ws) for _ in range(3)]
        live = await create_contact(api, "Live")
        after_switch = await next_event(ws)
    assert [(e["type"], e["nodeId"]) for e in replayed] == [
        ("contact.created", missed),
        ("contact.transitioned", missed),
        ("contact.transitioned", first),
    ]
    ids = [int(e["id"]) for e in [seen, *replayed, after_switch]]
    assert ids == sorted(set(ids)), "events out of order or repeated"
    assert (after_switch["type"], after_switch["nodeId"]) == ("contact.created", live)


async def test_a_subscriber_of_another_agency_receives_nothing(api: Api) -> None:
    await bootstrap_agency("Bolt", "bolt", "admin@bolt.example.com", "Bo", PASSWORD)
    bolt = await api.sign_in("admin@bolt.example.com", PASSWORD)
    async with following(api, bolt.token, {"after": event_cursor(0)}) as ws:
        await create_contact(api, "Acme's secret")
        own = await create_contact(bolt, "Bolt's own")
        # Everything of Bolt's since the beginning, then its own contact: nothing of Acme's.
        received: list[dict[str, Any]] = []
        while not received or received[-1]["nodeId"] != own:
            received.append(await next_event(ws))
    assert all("Acme" not in str(e["payload"]) for e in received)
    assert {e["recordId"] for e in received}.isdisjoint({"Acme's secret"})


async def test_a_sales_person_sees_only_events_of_contacts_they_own(api: Api) -> None:
    admin = Actor.system((await Event.all().first()).agency_id, "test")  # type: ignore[union-attr]
    people = {}
    for name in ("mine", "theirs"):
        user = await users.create_user(
            admin,
            {
                "email": f"{name}@acme.example.com",
                "name": name,
                "password": PASSWORD,
                "roles": [Role.SALES_PERSON],
            },
        )
        people[name] = str(relay.GlobalID("User", str(user.id)))
    seller = await api.sign_in("mine@acme.example.com", PASSWORD)
    async with following(api, seller.token, {"after": await head_cursor()}) as ws:
        theirs = await create_contact(api, "Theirs", people["theirs"])
        await api.graphql(TRANSITION, {"id": theirs})
        mine = await create_contact(api, "Mine", people["mine"])
        await api.graphql(
            "mutation($id: ID!) { deleteContact(input: {id: $id}) { errors { code } } }",
            {"id": mine},
        )
        created, deleted = await next_event(ws), await next_event(ws)
    assert (created["type"], created["nodeId"]) == ("contact.created", mine)
    # A soft-deleted contact keeps its owner, who still hears of the deletion.
    assert (deleted["type"], deleted["nodeId"]) == ("contact.deleted", mine)


async def test_subscribers_of_one_document_share_its_result_but_each_sees_only_its_own(
    api: Api,
) -> None:
    """Two admins' and two of a Sales Person's subscriptions, all with the same document: the
    event both may see is executed once for all four (`schema.events`), and the one only
    the admins may see never reaches the Sales Person's."""
    admin = Actor.system((await Event.all().first()).agency_id, "test")  # type: ignore[union-attr]
    people = {}
    for name in ("seller", "other"):
        user = await users.create_user(
            admin,
            {
                "email": f"{name}@acme.example.com",
                "name": name,
                "password": PASSWORD,
                "roles": [Role.SALES_PERSON],
            },
        )
        people[name] = str(relay.GlobalID("User", str(user.id)))
    seller = await api.sign_in("seller@acme.example.com", PASSWORD)
    after = {"after": await head_cursor()}
    async with (
        following(api, api.token, after) as admin_1,
        following(api, api.token, after) as admin_2,
        following(api, seller.token, after) as seller_1,
        following(api, seller.token, after) as seller_2,
    ):
        theirs = await create_contact(api, "Theirs", people["other"])
        mine = await create_contact(api, "Mine", people["seller"])
        admins = [[await next_event(ws) for _ in range(2)] for ws in (admin_1, admin_2)]
        sellers = [await next_event(ws) for ws in (seller_1, seller_2)]
    for seen in admins:
        assert [e["nodeId"] for e in seen] == [theirs, mine]
    assert [e["nodeId"] for e in sellers] == [mine, mine]
    assert admins[0] == admins[1]
    assert sellers[0] == sellers[1] == admins[0][1]


async def test_an_anonymous_subscription_is_refused(api: Api) -> None:
    async with following(api, None, {"after": event_cursor(0)}) as ws:
        assert await refusal(ws) == "UNAUTHENTICATED"


async def test_an_api_key_needs_the_subscribe_scope(api: Api) -> None:
    agency_id = (await Event.all().first()).agency_id  # type: ignore[union-attr]
    system = Actor.system(agency_id, "test")
    read_only = await api_keys.create_api_key(system, "reader", [ApiScope.READ], None)
    follower = await api_keys.create_api_key(
        system, "follower", [ApiScope.READ, ApiScope.SUBSCRIBE], None
    )
    async with following(api, read_only.secret, {"after": event_cursor(0)}) as ws:
        assert await refusal(ws) == "FORBIDDEN"
    async with following(api, follower.secret, {"after": await head_cursor()}) as ws:
        contact_id = await create_contact(api, "Followed")
        event = await next_event(ws)
    assert (event["type"], event["nodeId"]) == ("contact.created", contact_id)


async def test_filters_narrow_the_stream_to_one_record_and_event_type(api: Api) -> None:
    wanted = await create_contact(api, "Wanted")
    other = await create_contact(api, "Other")
    variables = {
        "after": await head_cursor(),
        "filter": {"recordIds": [wanted], "eventTypes": ["contact.transitioned"]},
    }
    async with following(api, api.token, variables) as ws:
        await api.graphql(TRANSITION, {"id": other})
        await api.graphql(TRANSITION, {"id": wanted})
        event = await next_event(ws)
    assert (event["type"], event["nodeId"]) == ("contact.transitioned", wanted)
    assert event["payload"] == {"event": "mark_hot", "from": "new", "to": "hot"}


async def test_a_cursor_the_api_did_not_give_out_is_refused(api: Api) -> None:
    async with following(api, api.token, {"after": "not-a-cursor"}) as ws:
        assert await refusal(ws) == "INVALID_CURSOR"


async def test_a_client_that_falls_behind_is_ended_with_a_cursor_to_resume_from(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, subscription_queue_size=2)
    async with open_api(settings) as api:
        contact_id = await create_contact(api, "Busy")
        record_id = relay.GlobalID.from_id(contact_id).node_id
        agency_id = (await Event.all().first()).agency_id  # type: ignore[union-attr]
        system = Actor.system(agency_id, "test")
        start = await head_cursor()
        async with following(api, api.token) as ws:
            # A live-only subscription: wait until it is registered before the burst.
            for _ in range(1_000):
                if api.app.state.live_events.subscriber_count:
                    break
                await asyncio.sleep(0.01)
            async with in_transaction() as connection:  # five events, one commit: one burst
                for n in range(5):
                    await append_event(
                        system, "contact.updated", "contact", record_id, {"n": n}, connection
                    )
            message = await next_message(ws)
        errors = message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
        resume = errors[0]["extensions"]["cursor"]
        assert resume == start
        async with following(api, api.token, {"after": resume}) as ws:
            replayed = [await next_event(ws) for _ in range(5)]
        assert [e["payload"]["n"] for e in replayed] == [0, 1, 2, 3, 4]
        assert api.app.state.live_events.subscriber_count == 0


async def test_a_client_that_stops_answering_pings_is_disconnected(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url, tmp_path, ws_ping_seconds=0.05, ws_pong_timeout_seconds=0.2
    )
    async with open_api(settings) as api, following(api, api.token) as ws:
        assert (await ws.receive_json(timeout=WAIT))["type"] == "ping"
        await ws.send_json({"type": "pong"})
        assert (await ws.receive_json(timeout=WAIT))["type"] == "ping"
        with pytest.raises(WebSocketDisconnect) as closed:  # no pong this time
            await ws.receive_json(timeout=WAIT)
    assert closed.value.code == 4499


async def test_a_connection_that_never_initialises_is_closed(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, ws_connection_init_timeout_seconds=0.1)
    async with open_api(settings) as api, api.websocket() as ws:
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json(timeout=WAIT)
    assert closed.value.code == 4408
