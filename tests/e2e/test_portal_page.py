"""The customer portal as a contact uses it, in a real headless chromium: ask for a link on the
agency's portal, follow the emailed one-time link, see the customer's tickets (and not another
customer's, even by its address), answer one, open a new one, sign out."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from crm.settings import Settings
from db.messages import Message
from db.tickets import Ticket
from domain import tickets
from domain.signed_links import LinkPurpose, sign
from tests.e2e.colleagues import acme_system
from tests.e2e.conftest import Api
from tests.e2e.test_portal_api import contact_of_customer
from tests.fixtures.databases import DatabaseSource
from tests.fixtures.served_api import served


@pytest.fixture
def database_source(sqlite_template: Path) -> DatabaseSource:
    """The page on SQLite only: what it shows comes from `domain.portal`, whose scoping
    `tests/e2e/test_portal_api.py` checks on both databases."""
    return DatabaseSource("sqlite", sqlite_template=sqlite_template)


async def test_a_contact_signs_in_with_a_link_and_answers_a_ticket_in_a_browser(
    api: Api, settings: Settings, browser_page: Page
) -> None:
    system = await acme_system()
    customer, grace = await contact_of_customer(system, "Grace", "grace@example.com")
    other_customer, alan = await contact_of_customer(system, "Alan", "alan@example.com")
    ours = await tickets.create_ticket(
        system, {"subject": "Printer on fire", "customer_id": customer, "contact_id": grace}
    )
    await tickets.reply_to_ticket(system, ours.id, "Please leave the room.")
    await tickets.transition_ticket(system, ours.id, "wait_on_customer")
    theirs = await tickets.create_ticket(
        system, {"subject": "Alan's secret", "customer_id": other_customer, "contact_id": alan}
    )
    links = settings.unsubscribe_links()

    async with served(settings) as address:
        page, base = browser_page, f"http://{address}"
        response = await page.goto(f"{base}/portal/acme/sign-in")
        assert response is not None
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        await page.get_by_label("Your email address").fill("grace@example.com")
        await page.get_by_role("button", name="Email me a sign-in link").click()
        await expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way")

        sent = await Message.get(source="portal_sign_in")
        assert sent.recipients == ["grace@example.com"]
        row = sent.page_link.partition(":")[2]
        link = f"{base}/portal/link/{sign(links, LinkPurpose.PORTAL_SIGN_IN, row)}"
        await page.goto(link)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Your tickets")).to_be_visible()
        await expect(page.get_by_text("Grace, Grace")).to_be_visible()
        await expect(page.get_by_role("link", name="Alan's secret")).to_have_count(0)

        await page.get_by_role("link", name="Printer on fire").click()
        await expect(page.get_by_text("Please leave the room.")).to_be_visible()
        await expect(page.locator("#status")).to_have_text("Status: pending")
        await page.get_by_label("Your reply").fill("The fire is out.")
        await page.get_by_role("button", name="Send the reply").click()
        await expect(page.get_by_text("The fire is out.")).to_be_visible()
        await expect(page.locator("#status")).to_have_text("Status: open")

        stranger = await page.goto(f"{base}/portal/tickets/{theirs.id}")
        assert stranger is not None
        assert stranger.status == 404
        await expect(page.get_by_text("Alan's secret")).to_have_count(0)

        await page.goto(f"{base}/portal/tickets")
        await page.get_by_label("Subject").fill("Invoice missing")
        await page.get_by_role("button", name="Open the ticket").click()
        await expect(page.get_by_role("heading", name="Invoice missing")).to_be_visible()

        used = await page.goto(link)
        assert used is not None
        assert used.status == 404
        await expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()

        await page.goto(f"{base}/portal/tickets")
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
        after = await page.goto(f"{base}/portal/tickets")
        assert after is not None
        assert after.status == 401

    opened = await Ticket.get(subject="Invoice missing")
    assert (str(opened.customer_id), str(opened.contact_id), opened.channel) == (
        customer,
        grace,
        "portal",
    )
