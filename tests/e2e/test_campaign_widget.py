"""The embeddable widget as a visitor of another site meets it, in a real headless chromium: a
shop's page (served from another origin) carries the one-line snippet, the visitor likes the
campaign and signs up in the widget's frame, and the CRM has the contact, its attribution to
the referrer of the shared link, and exact counters. A site the owner did not allow gets no
widget."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from crm.settings import Settings
from db.campaigns import CampaignAttribution
from db.contacts import Contact
from db.message_preferences import ConsentChange
from db.users import User
from domain.referral_codes import Referrer, ReferrerType, referral_code
from tests.e2e.conftest import ADMIN_EMAIL, Api, make_settings
from tests.e2e.test_campaign_public import a_campaign, counts
from tests.fixtures.served_api import served
from tests.fixtures.webhook_receiver import QuietServer

MIN_FILL_SECONDS = 0.5


@pytest.fixture
async def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, campaign_form_min_seconds=MIN_FILL_SECONDS)


@asynccontextmanager
async def another_site(crm: str) -> AsyncIterator[str]:
    """A shop's web site on a port of its own (another origin than the CRM's), whose page
    embeds the campaign with the snippet; its origin."""

    async def shop(_: Request) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html><head><title>Shop</title></head><body><h1>Our shop</h1>"
            f'<script src="http://{crm}/widget.js" data-campaign="acme/spring" '
            'data-title="Spring referral" async></script></body></html>'
        )

    config = uvicorn.Config(
        Starlette(routes=[Route("/", shop)]), host="127.0.0.1", port=0, log_config=None
    )
    server = QuietServer(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the shop's site did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.should_exit = True
        await serving


async def test_a_visitor_of_another_site_likes_and_signs_up_in_the_widget(
    api: Api, settings: Settings, browser_page: Page
) -> None:
    admin = await User.get(email=ADMIN_EMAIL)
    code = await referral_code(admin.agency_id, Referrer(ReferrerType.USER, admin.id))
    page = browser_page
    async with (
        served(settings) as crm,
        another_site(crm) as shop,
        another_site(crm) as stranger,
    ):
        campaign = await a_campaign(embed_origins=[shop])

        await page.goto(f"{shop}/?ref={code}")
        widget = page.frame_locator("iframe[title='Spring referral']")
        await expect(widget.get_by_role("heading", name="Spring referral")).to_be_visible()
        await widget.get_by_role("button", name="Like").click()
        await expect(widget.get_by_role("status")).to_have_text("Thank you for your like!")
        await widget.get_by_role("button", name="Liked").click()
        await expect(widget.get_by_role("status")).to_have_text("You like this already.")

        await expect(widget.get_by_label("Referral code")).to_have_value(code)
        await widget.get_by_label("Name").fill("Grace Hopper")
        await widget.get_by_label("Email").fill("grace@example.com")
        await widget.get_by_label("Send me news and offers from Acme").check()
        await asyncio.sleep(MIN_FILL_SECONDS)  # a person takes longer
        await widget.get_by_role("button", name="Sign up").click()
        await expect(widget.get_by_role("status")).to_have_text(
            "Thank you for signing up! We will be in touch."
        )

        # A site the owner did not allow: the browser refuses to show the widget there.
        await page.goto(stranger)
        await expect(page.get_by_role("heading", name="Our shop")).to_be_visible()
        await expect(page.locator("iframe")).to_have_count(1)
        refused = page.frame_locator("iframe[title='Spring referral']")
        await expect(refused.get_by_role("heading", name="Spring referral")).to_have_count(0)

    contact = await Contact.get(source="campaign")
    assert (contact.first_name, contact.emails) == ("Grace", ["grace@example.com"])
    attribution = await CampaignAttribution.get(campaign_id=campaign.id)
    assert (attribution.contact_id, attribution.referrer_user_id) == (contact.id, admin.id)
    assert await ConsentChange.filter(record_id=str(contact.id), source="campaign").exists()
    # Views: the widget shown on the shop's page (the stranger's frame is refused by the
    # browser after the CRM answered, so it counts too); one like, one enrolment.
    views, likes, enrolments = await counts(campaign)
    assert (likes, enrolments) == (1, 1)
    assert views == 2
