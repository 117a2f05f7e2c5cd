"""Campaigns on a real database: exact counters under concurrency, who sees which campaign,
and which campaign the public side may show."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from db.events import Event
from domain import campaign_counters, campaigns, message_templates, users
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.campaign_counters import CounterKind
from domain.errors import DomainError
from domain.event_visibility import visible_events
from domain.roles import Role
from tests.fixtures.databases import OpenDatabase

NOON = datetime(2026, 12, 7, 12, tzinfo=UTC)


async def an_agency(slug: str = "acme") -> tuple[Actor, Actor, Actor]:
    """An agency's system admin, a marketing user and a sales person."""
    agency, _, _ = await bootstrap_agency(
        slug.title(), slug, f"a@{slug}.example.com", "A", "x" * 12
    )
    admin = Actor.system(agency.id, "test")
    people = []
    for role in (Role.MARKETING, Role.SALES_PERSON):
        user = await users.create_user(
            admin,
            {
                "email": f"{role.value}@{slug}.example.com",
                "name": role.value,
                "password": "x" * 12,
                "roles": [role],
            },
        )
        people.append(Actor(agency.id, f"user:{user.id}", user_id=user.id, roles=frozenset({role})))
    return admin, people[0], people[1]


async def test_concurrent_counts_are_all_kept(db: OpenDatabase) -> None:
    _, marketing, _ = await an_agency()
    campaign = await campaigns.create_campaign(
        marketing, {"title": "Spring", "code": "spring", "campaign_type": "promotion"}
    )
    # PostgreSQL runs them on its pool at once; SQLite serialises them in its one writer.
    likes = 1_000 if db.backend == "postgres" else 200
    await asyncio.gather(
        *(campaign_counters.count(campaign.id, CounterKind.LIKE, NOON) for _ in range(likes))
    )
    await campaign_counters.count(campaign.id, CounterKind.VIEW, NOON, units=5)
    await campaign_counters.count(campaign.id, CounterKind.ENROLMENT, NOON + timedelta(days=1))

    totals = await campaign_counters.totals([campaign.id, uuid.uuid4()])
    assert totals[campaign.id] == campaign_counters.Totals(views=5, likes=likes, enrolments=1)
    series = await campaign_counters.series(campaign.id, date(2026, 12, 6), date(2026, 12, 8))
    assert [(d.day.day, d.views, d.likes, d.enrolments) for d in series] == [
        (6, 0, 0, 0),
        (7, 5, likes, 0),
        (8, 0, 0, 1),
    ]


async def test_a_private_campaign_is_seen_by_its_owner_and_admins_only(
    db: OpenDatabase,
) -> None:
    admin, marketing, sales = await an_agency()
    private = await campaigns.create_campaign(
        marketing, {"title": "Secret", "code": "secret", "campaign_type": "referral"}
    )
    internal = await campaigns.create_campaign(
        marketing,
        {"title": "Team", "code": "team", "campaign_type": "referral", "visibility": "internal"},
    )
    listed = await campaigns.list_campaigns(sales, first=10)
    assert [c.id for c in listed.items] == [internal.id]
    assert {c.id for c in (await campaigns.list_campaigns(admin, first=10)).items} == {
        private.id,
        internal.id,
    }
    with pytest.raises(DomainError) as raised:
        await campaigns.get_campaign(sales, private.id)
    assert raised.value.code == "NOT_FOUND"
    with pytest.raises(DomainError) as refused:
        await campaigns.update_campaign(sales, internal.id, {"title": "Mine now"})
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(DomainError) as taken:
        await campaigns.create_campaign(
            sales, {"title": "Again", "code": "team", "campaign_type": "referral"}
        )
    assert taken.value.code == "CODE_TAKEN"


async def test_only_a_public_active_campaign_is_public(db: OpenDatabase) -> None:
    admin, marketing, _ = await an_agency()
    await message_templates.seed_default_templates(
        admin.agency_id,
        [
            {
                "key": "spring",
                "name": "Spring",
                "kind": "marketing",
                "subject": "Hi",
                "text_body": "Hello {{ recipient.first_name }}",
            }
        ],
    )
    now = datetime.now(UTC)
    campaign = await campaigns.create_campaign(
        marketing,
        {
            "title": "Spring",
            "code": "Spring-2027",
            "campaign_type": "referral",
            "visibility": "public",
            "template_keys": ["spring"],
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=7),
        },
    )
    assert await campaigns.get_public_campaign("acme", "Spring-2027") is None  # a draft
    await campaigns.transition_campaign(marketing, campaign.id, "submit")
    await campaigns.transition_campaign(marketing, campaign.id, "activate")
    found = await campaigns.get_public_campaign("acme", "Spring-2027")
    assert found is not None
    assert found.id == campaign.id
    assert await campaigns.get_public_campaign("acme", "spring-2027") is None
    assert await campaigns.get_public_campaign("bolt", "Spring-2027") is None
    assert await campaigns.get_public_campaign("acme", "../etc") is None
    assert await campaigns.get_public_campaign("acme", "Spring-2027\n") is None
    with pytest.raises(DomainError) as kept:
        await campaigns.update_campaign(marketing, campaign.id, {"ends_at": None})
    assert (kept.value.code, kept.value.field) == ("INVALID_PERIOD", "ends_at")
    await campaigns.update_campaign(marketing, campaign.id, {"visibility": "internal"})
    assert await campaigns.get_public_campaign("acme", "Spring-2027") is None


async def test_a_private_campaigns_events_reach_only_who_sees_it(db: OpenDatabase) -> None:
    admin, marketing, sales = await an_agency()
    private = await campaigns.create_campaign(
        marketing, {"title": "Secret", "code": "secret", "campaign_type": "referral"}
    )
    internal = await campaigns.create_campaign(
        marketing,
        {"title": "Team", "code": "team", "campaign_type": "referral", "visibility": "internal"},
    )
    events = await Event.filter(type="campaign.created").order_by("id")

    async def seen_by(actor: Actor) -> list[str]:
        return [event.aggregate_id for event in await visible_events(actor, events)]

    assert await seen_by(admin) == [str(private.id), str(internal.id)]
    assert await seen_by(marketing) == [str(private.id), str(internal.id)]
    assert await seen_by(sales) == [str(internal.id)]
