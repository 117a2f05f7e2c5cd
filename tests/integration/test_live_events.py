"""Following the event log on real databases: the switch from backlog to live misses nothing and
repeats nothing, ids commit in order, rolled-back changes never show, a lost LISTEN connection
is reopened, records about other records are seen only by who sees those, and a revoked key
ends its subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import replace

import asyncpg
import pytest
from tortoise.transactions import in_transaction

from crm.event_fan_out import event_fan_out
from db.event_signals import LISTENER_APPLICATION_NAME, postgres_connect_arguments
from db.events import Event
from db.flow_runs import FlowRun
from domain import api_keys, contacts, users
from domain.actors import Actor, ApiScope
from domain.agencies import bootstrap_agency
from domain.errors import DomainError
from domain.event_subscriptions import (
    EventStreamErrorCode,
    event_cursor,
    follow_events,
    plan_event_stream,
)
from domain.event_visibility import visible_events
from domain.events import append_event
from domain.live_events import LiveEvents, LiveEventsConfig
from domain.notifications import notify_user
from domain.roles import Role
from tests.fixtures.databases import OpenDatabase

WAIT = 10.0


@pytest.fixture
async def admin(db: OpenDatabase) -> Actor:
    agency, _, _ = await bootstrap_agency(
        "Acme", "acme", "admin@acme.example.com", "Ada", "long enough password"
    )
    return Actor.system(agency.id, "test")


@asynccontextmanager
async def live_events(db: OpenDatabase, poll_seconds: float = 600.0) -> AsyncIterator[LiveEvents]:
    """The fan-out an API process runs; polling so rare that only signals deliver."""
    live = LiveEvents(LiveEventsConfig(poll_seconds=poll_seconds))
    async with event_fan_out(db.url, live):
        yield live


async def head() -> int:
    newest = await Event.all().order_by("-id").first()
    return newest.id if newest else 0


async def collect(stream: AsyncGenerator[Event, None], count: int) -> list[Event]:
    received = []
    async for event in stream:
        received.append(event)
        if len(received) == count:
            break
    return received


async def test_joining_while_changes_commit_misses_nothing_and_repeats_nothing(
    db: OpenDatabase, admin: Actor
) -> None:
    start = await head()
    total = 40

    async def write() -> None:
        for n in range(total):
            await contacts.create_contact(admin, {"first_name": f"Busy {n}"})
            await asyncio.sleep(0)

    async with live_events(db) as live:
        writing = asyncio.create_task(write())
        for _ in range(2_000):  # join in the middle of the writes
            if await head() >= start + total // 3:
                break
            await asyncio.sleep(0.005)
        plan = plan_event_stream(admin, event_cursor(start), {"record_types": ["contact"]})
        async with aclosing(follow_events(plan, live)) as stream:
            async with asyncio.timeout(WAIT):
                received = await collect(stream, total)
        await writing
    ids = [event.id for event in received]
    committed = await Event.filter(id__gt=start, aggregate_type="contact").order_by("id")
    assert ids == [event.id for event in committed]
    assert len(set(ids)) == total


async def test_a_later_event_of_an_agency_never_commits_before_an_earlier_one(
    db: OpenDatabase, admin: Actor
) -> None:
    contact = await contacts.create_contact(admin, {"first_name": "Ordered"})
    record = str(contact.id)
    first_appended = asyncio.Event()
    release = asyncio.Event()
    order: list[int] = []

    async def slow_transaction() -> None:
        async with in_transaction() as connection:
            event = await append_event(admin, "contact.updated", "contact", record, {}, connection)
            first_appended.set()
            await release.wait()
        order.append(event.id)

    async def quick_transaction() -> None:
        await first_appended.wait()
        async with in_transaction() as connection:
            event = await append_event(admin, "contact.updated", "contact", record, {}, connection)
        order.append(event.id)

    slow = asyncio.create_task(slow_transaction())
    quick = asyncio.create_task(quick_transaction())
    try:
        await first_appended.wait()
        await asyncio.sleep(0.2)
        assert not quick.done(), "a later append committed while an earlier one was open"
    finally:
        release.set()
        await asyncio.gather(slow, quick)
    assert order == sorted(order)


async def test_a_rolled_back_change_is_never_delivered(db: OpenDatabase, admin: Actor) -> None:
    async with live_events(db) as live:
        plan = plan_event_stream(admin, None, {"record_types": ["contact"]})
        async with aclosing(follow_events(plan, live)) as stream:
            reading = asyncio.create_task(collect(stream, 1))
            for _ in range(2_000):
                if live.subscriber_count:
                    break
                await asyncio.sleep(0.005)
            with contextlib.suppress(RuntimeError):
                async with in_transaction() as connection:
                    await append_event(admin, "contact.created", "contact", "gone", {}, connection)
                    raise RuntimeError("changed our mind")
            kept = await contacts.create_contact(admin, {"first_name": "Kept"})
            async with asyncio.timeout(WAIT):
                [event] = await reading
    assert event.aggregate_id == str(kept.id)


@pytest.mark.parametrize("database_source", ["postgres"], indirect=True)
async def test_a_lost_listen_connection_is_reopened_and_nothing_is_missed(
    db: OpenDatabase, admin: Actor
) -> None:
    async with live_events(db) as live:
        plan = plan_event_stream(admin, event_cursor(await head()), {"record_types": ["contact"]})
        async with aclosing(follow_events(plan, live)) as stream:
            first = await contacts.create_contact(admin, {"first_name": "Before"})
            async with asyncio.timeout(WAIT):
                [seen] = await collect(stream, 1)
            assert seen.aggregate_id == str(first.id)
            # Cut every LISTEN connection, as a restart of PostgreSQL or a network blip would.
            maintenance = await asyncpg.connect(**postgres_connect_arguments(db.url))
            try:
                cut = await maintenance.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = $1 AND datname = current_database()",
                    LISTENER_APPLICATION_NAME,
                )
            finally:
                await maintenance.close()
            assert cut >= 1
            during = await contacts.create_contact(admin, {"first_name": "While away"})
            async with asyncio.timeout(WAIT):
                [caught_up] = await collect(stream, 1)
    assert caught_up.aggregate_id == str(during.id)


async def test_notifications_are_seen_by_the_person_they_are_for(
    db: OpenDatabase, admin: Actor
) -> None:
    people = []
    for name in ("ann", "bob"):
        user = await users.create_user(
            admin,
            {
                "email": f"{name}@acme.example.com",
                "name": name,
                "password": "long enough password",
                "roles": [Role.SALES_PERSON],
            },
        )
        people.append(
            Actor(
                agency_id=admin.agency_id,
                id=f"user:{user.id}",
                user_id=user.id,
                roles=frozenset({Role.SALES_PERSON}),
                team=frozenset({user.id}),
            )
        )
    ann, bob = people
    assert ann.user_id is not None
    async with in_transaction() as connection:
        await notify_user(admin, ann.user_id, "Call back", "contact", "x", "test", connection)
    events = await Event.filter(type="notification.created")
    assert len(await visible_events(ann, events)) == 1
    assert await visible_events(bob, events) == []


async def test_flow_run_events_are_seen_by_whoever_sees_the_record(
    db: OpenDatabase, admin: Actor
) -> None:
    seller = await users.create_user(
        admin,
        {
            "email": "seller@acme.example.com",
            "name": "Seller",
            "password": "long enough password",
            "roles": [Role.SALES_PERSON],
        },
    )
    as_seller = Actor(
        agency_id=admin.agency_id,
        id=f"user:{seller.id}",
        user_id=seller.id,
        roles=frozenset({Role.SALES_PERSON}),
        team=frozenset({seller.id}),
    )
    runs = {}
    for owner in (seller.id, None):
        contact = await contacts.create_contact(admin, {"first_name": "Run", "owner_id": owner})
        run = await FlowRun.create(
            agency_id=admin.agency_id,
            workflow_id=f"flow:test:contact:{contact.id}",
            flow_key="test",
            version=1,
            record_type="contact",
            record_id=str(contact.id),
            status="running",
        )
        async with in_transaction() as connection:
            await append_event(admin, "flow_run.started", "flow_run", str(run.id), {}, connection)
        runs[owner] = str(run.id)
    events = await Event.filter(aggregate_type="flow_run").order_by("id")
    assert [e.aggregate_id for e in await visible_events(as_seller, events)] == [runs[seller.id]]
    assert len(await visible_events(admin, events)) == 2


def feeds_of(agency_id: uuid.UUID) -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name() == f"event-feed-{agency_id}" and not task.done()
    ]


async def feeds_left(agency_id: uuid.UUID) -> list[asyncio.Task[object]]:
    """The agency's feed tasks still running once cancelled ones have had a second to end."""
    if running := feeds_of(agency_id):
        await asyncio.wait(running, timeout=1.0)
    return feeds_of(agency_id)


async def test_a_subscription_dropped_before_its_feed_is_ready_leaves_no_feed_behind(
    db: OpenDatabase, admin: Actor
) -> None:
    live = LiveEvents(LiveEventsConfig(poll_seconds=600.0))
    joining = asyncio.create_task(live.subscribe(admin.agency_id, lambda _event: True))
    await asyncio.sleep(0)  # it now waits for the feed to read the agency's newest event
    assert feeds_of(admin.agency_id), "the first subscriber starts the agency's feed"
    joining.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await joining
    assert await feeds_left(admin.agency_id) == []
    # The agency can still be followed afterwards.
    subscriber = await live.subscribe(admin.agency_id, lambda _event: True)
    assert len(feeds_of(admin.agency_id)) == 1
    live.unsubscribe(subscriber)
    assert await feeds_left(admin.agency_id) == []


async def test_a_revoked_key_ends_every_subscription_made_with_it_after_one_shared_check(
    db: OpenDatabase, admin: Actor
) -> None:
    """Three subscriptions of one API key re-check it with one query between them, and all
    three end once it is revoked (`reauth_seconds` short, so the test need not wait 30 s)."""
    made = await api_keys.create_api_key(
        admin, "follower", [ApiScope.READ, ApiScope.SUBSCRIBE], None
    )
    key = Actor(
        agency_id=admin.agency_id,
        id=f"api_key:{made.api_key.id}",
        api_scopes=frozenset({ApiScope.READ, ApiScope.SUBSCRIBE}),
    )
    reauth = 0.2
    async with live_events(db) as live, contextlib.AsyncExitStack() as stack:
        start = event_cursor(await head())
        streams = [
            await stack.enter_async_context(
                aclosing(
                    follow_events(
                        plan_event_stream(
                            replace(key, request_id=f"connection {n}"),
                            start,
                            {"record_types": ["contact"]},
                            reauth,
                        ),
                        live,
                    )
                )
            )
            for n in range(3)
        ]
        waiting = [asyncio.create_task(anext(stream)) for stream in streams]  # they start
        await asyncio.sleep(reauth * 1.5)  # each subscription's check is now due
        created = await contacts.create_contact(admin, {"first_name": "Checked"})
        async with asyncio.timeout(WAIT):
            received = await asyncio.gather(*waiting)
        assert [event.aggregate_id for event in received] == [str(created.id)] * 3
        assert len(live.access_checks) == 1, "one check of the key served all three"

        await api_keys.revoke_api_key(admin, made.api_key.id)
        await asyncio.sleep(reauth * 1.5)
        await contacts.create_contact(admin, {"first_name": "Unseen"})
        for stream in streams:
            with pytest.raises(DomainError) as ended:
                async with asyncio.timeout(WAIT):
                    await anext(stream)
            assert ended.value.code == EventStreamErrorCode.UNAUTHENTICATED
