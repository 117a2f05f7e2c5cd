"""The satisfaction survey as a contact answers it: resolving a ticket emails a one-use signed
link; in a real headless chromium the contact picks a score and writes a comment, stored on
the ticket; the same link again, or a forged one, gets a page that names nobody."""

from __future__ import annotations

from playwright.async_api import Page, expect

from crm.settings import Settings
from db.messages import Message
from db.tickets import Ticket
from domain import contacts, tickets
from domain.signed_links import LinkPurpose, sign
from tests.e2e.colleagues import acme_system
from tests.e2e.conftest import Api
from tests.fixtures.served_api import served


async def test_a_contact_rates_a_resolved_ticket_once_in_a_browser(
    api: Api, settings: Settings, browser_page: Page
) -> None:
    system = await acme_system()
    grace = await contacts.create_contact(
        system, {"first_name": "Grace", "emails": ["grace@example.com"]}
    )
    opened = await tickets.create_ticket(
        system, {"subject": "Printer on fire", "contact_id": grace.id}
    )
    resolved = await tickets.transition_ticket(system, opened.id, "resolve", reason="Fixed.")
    subject = tickets.survey_subject(resolved)
    survey = await Message.get(record_type="ticket", record_id=str(opened.id))
    assert (survey.page_link, survey.recipients) == (f"survey:{subject}", ["grace@example.com"])
    links = settings.unsubscribe_links()
    path = f"/survey/{sign(links, LinkPurpose.SURVEY, subject)}"
    forged = f"/survey/{sign(links, LinkPurpose.BOOKING, subject)}"

    async with served(settings) as address:
        page = browser_page
        response = await page.goto(f"http://{address}{path}")
        assert response is not None
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        await expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
        await expect(page.get_by_text("Printer on fire")).to_be_visible()
        await page.get_by_label("4", exact=True).check()
        await page.get_by_label("Anything to add?").fill("Quick, thanks.")
        await page.get_by_role("button", name="Send").click()
        await expect(page.get_by_role("status")).to_have_text("Your answer is recorded.")

        again = await page.goto(f"http://{address}{path}")
        assert again is not None
        assert again.status == 404
        await expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
        await expect(page.get_by_text("Printer on fire")).to_have_count(0)
        fake = await page.goto(f"http://{address}{forged}")
        assert fake is not None
        assert fake.status == 404
        await expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()

    rated = await Ticket.get(id=opened.id)
    assert (rated.satisfaction_score, rated.satisfaction_comment) == (4, "Quick, thanks.")
    assert rated.rated_at is not None
    answered_again = await api.client.post(path, data={"score": "1", "comment": "Changed"})
    assert answered_again.status_code == 404
    assert (await Ticket.get(id=opened.id)).satisfaction_score == 4
