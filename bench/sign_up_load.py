"""Public sign-ups per second on one API process, with the counters exact at the end.

An agency of its own runs a public, active referral campaign. `crm serve` (one uvicorn
process) answers visitors over loopback: each visitor shows the widget (a view) and sends the
sign-up form (served a minute before, so the minimum fill time has passed), with the
referrer's code; one visitor in ten is a person who signed up before (by the same email),
which must find that contact and count nothing. The per-address limits are lifted (every
visitor comes from 127.0.0.1); the per-campaign limit stays, above what one process serves.

At the end the database must agree with the answers exactly: views = widgets shown,
enrolments = attributions = new contacts = distinct people signed up. Anything else is a
`BenchmarkError`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr

from bench.client import BenchmarkError
from bench.concurrent_load import served_app
from bench.timings import Timing, timing
from db.campaigns import Campaign, CampaignAttribution
from db.connection import database
from db.contacts import Contact
from domain.agencies import bootstrap_agency
from domain.campaign_counters import totals
from domain.campaign_page import find_campaign, form_token
from domain.referral_codes import Referrer, ReferrerType, referral_code
from domain.signed_links import LinkConfig

CLIENTS = 16
SECONDS = 15.0
REPEAT_EVERY = 10  # one visitor in ten signed up before
CODE = "bench"
THANKS = "Thank you for signing up!"
LIFTED = str(10**9)


@dataclass(frozen=True)
class SignUpLoadResult:
    seconds: float
    clients: int
    sign_ups: int  # answered sign-ups (new people and people signing up again)
    people: int  # distinct people signed up: each one contact and one enrolment
    failures: int
    first_failure: str | None
    sign_ups_per_second: float
    latency: Timing  # of the sign-up request alone
    views: int
    enrolments: int
    exact: bool


async def _campaign(slug: str) -> str:
    """The agency, its campaign and its admin's referral code (returned)."""
    agency, admin, _ = await bootstrap_agency(
        "Sign-up bench", slug, f"admin@{slug}.bench.example.com", "Bench", "bench-password-1"
    )
    await Campaign.create(
        agency_id=agency.id,
        title="Bench referral",
        code=CODE,
        visibility="public",
        campaign_type="referral",
        owner_id=admin.id,
        status="active",
        created_by="system:bench",
    )
    return await referral_code(agency.id, Referrer(ReferrerType.USER, admin.id))


async def sign_up_benchmark(
    database_url: str, workdir: Path, seconds: float = SECONDS, clients: int = CLIENTS
) -> SignUpLoadResult:
    slug = f"signups-{uuid.uuid4().hex[:8]}"
    secret = secrets.token_urlsafe(32)
    links = LinkConfig("http://127.0.0.1", SecretStr(secret))
    async with database(database_url):
        referral = await _campaign(slug)
        view = await find_campaign(slug, CODE)
    settings = {
        "CRM_SECRET_KEY": secret,
        "CRM_CAMPAIGN_VIEWS_PER_ADDRESS_PER_MINUTE": LIFTED,
        "CRM_CAMPAIGN_POSTS_PER_ADDRESS_PER_HOUR": LIFTED,
        "CRM_CAMPAIGN_SIGN_UPS_PER_CAMPAIGN_PER_MINUTE": "100000",
    }
    widget, sign_up = f"/c/{slug}/{CODE}/widget", f"/c/{slug}/{CODE}/sign-up"
    latencies: list[float] = []
    failures: list[str] = []
    people: set[str] = set()
    shown = 0
    async with served_app(database_url, workdir, settings=settings) as base_url:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:
            started = time.perf_counter()
            deadline = started + seconds

            async def visitor(n: int) -> None:
                nonlocal shown
                visit = 0
                while time.perf_counter() < deadline:
                    visit += 1
                    person = f"p{n}-{visit}"
                    if visit % REPEAT_EVERY == 0:
                        person = f"p{n}-1"
                    try:
                        page = await client.get(widget)
                        if page.status_code != 200:
                            raise BenchmarkError(f"widget: HTTP {page.status_code}")
                        shown += 1
                        served = datetime.now(UTC) - timedelta(minutes=1)
                        form = {
                            "in": "widget",
                            "token": form_token(links, view, served),
                            "name": f"Visitor {person}",
                            "email": f"{person}@visitors.example.com",
                            "consent": "yes",
                            "ref": referral,
                        }
                        sent = time.perf_counter()
                        answer = await client.post(sign_up, data=form)
                        latencies.append(time.perf_counter() - sent)
                        if answer.status_code != 200 or THANKS not in answer.text:
                            raise BenchmarkError(f"sign-up: HTTP {answer.status_code}")
                        people.add(person)
                    except (BenchmarkError, httpx.HTTPError) as failure:
                        failures.append(f"{type(failure).__name__}: {failure}")

            await asyncio.gather(*(visitor(n) for n in range(clients)))
            elapsed = time.perf_counter() - started
    if not latencies:
        raise BenchmarkError(f"no sign-up was answered in {seconds} s")
    async with database(database_url):
        counted = (await totals([view.campaign_id]))[view.campaign_id]
        attributions = await CampaignAttribution.filter(campaign_id=view.campaign_id).count()
        contacts = await Contact.filter(agency_id=view.agency_id, source="campaign").count()
    exact = (
        counted.views == shown
        and counted.enrolments == attributions == contacts == len(people)
        and not failures
    )
    if not exact:
        raise BenchmarkError(
            f"counters not exact: views {counted.views} of {shown} shown, enrolments "
            f"{counted.enrolments}, attributions {attributions}, contacts {contacts}, people "
            f"{len(people)}, failures {len(failures)} ({failures[:1]})"
        )
    return SignUpLoadResult(
        seconds=round(elapsed, 3),
        clients=clients,
        sign_ups=len(latencies),
        people=len(people),
        failures=len(failures),
        first_failure=failures[0] if failures else None,
        sign_ups_per_second=round(len(latencies) / elapsed, 2),
        latency=timing(latencies),
        views=counted.views,
        enrolments=counted.enrolments,
        exact=exact,
    )
