"""The unsubscribe page as a recipient uses it, in a real headless chromium: choose kinds,
unsubscribe from everything, and a bad link that shows nothing."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect
from strawberry import relay

from crm.settings import Settings
from db.message_preferences import ConsentChange, MessagePreference
from domain.unsubscribe_links import link_token
from tests.e2e.conftest import Api
from tests.fixtures.served_api import served

SEND = """mutation($id: ID!) {
  sendMessage(input: {recordId: $id, subject: "Our news", body: "Hello"}) {
    message { id } errors { code }
  }
}"""


async def a_message_link(api: Api, settings: Settings) -> tuple[str, str]:
    """A contact's id, and the path of the unsubscribe link a message to it carries."""
    contact_id = await api.created(
        "CreateContactInput",
        "createContact",
        "contact",
        {"firstName": "Grace", "lastName": "Hopper", "emails": ["grace@example.com"]},
    )
    sent = (await api.graphql(SEND, {"id": contact_id}))["sendMessage"]
    assert sent["errors"] == []
    message_id = int(relay.GlobalID.from_id(sent["message"]["id"]).node_id)
    return contact_id, f"/unsubscribe/{link_token(settings.unsubscribe_links(), message_id)}"


async def test_a_recipient_turns_off_offers_then_everything_in_a_browser(
    api: Api, settings: Settings, browser_page: Page, tmp_path: Path
) -> None:
    contact_id, path = await a_message_link(api, settings)
    record_id = relay.GlobalID.from_id(contact_id).node_id

    async with served(settings) as address:
        page = browser_page
        await page.goto(f"http://{address}{path}")
        await expect(page.get_by_role("heading", name="Acme")).to_be_visible()
        await expect(page.get_by_text("g****@example.com")).to_be_visible()
        offers = page.get_by_label("News, offers and campaigns")
        await expect(offers).to_be_checked()
        await expect(page.get_by_label("Messages from your account manager")).to_be_checked()

        await offers.uncheck()
        await page.get_by_role("button", name="Save my choices").click()

        await expect(page.get_by_role("status")).to_have_text("Your choices are saved.")
        await expect(page.get_by_label("News, offers and campaigns")).not_to_be_checked()
        await expect(page.get_by_label("Messages from your account manager")).to_be_checked()
        preference = await MessagePreference.get(record_id=record_id)
        assert preference.opted_out_kinds == ["marketing"]

        await page.get_by_role("button", name="Unsubscribe from everything").click()

        await expect(page.get_by_role("status")).to_contain_text("You are unsubscribed")
        for label in ("News", "Messages from your account manager", "Greetings"):
            await expect(page.get_by_label(label)).not_to_be_checked()
    await preference.refresh_from_db()
    assert preference.opted_out_kinds == ["greetings", "marketing", "sales"]
    changes = await ConsentChange.filter(record_id=record_id).order_by("id")
    assert [(c.source, c.opted_out) for c in changes] == [
        ("link", ["marketing"]),
        ("link", ["greetings", "sales"]),
    ]


async def test_an_altered_link_opens_a_page_that_names_nobody(
    api: Api, settings: Settings, browser_page: Page
) -> None:
    _, path = await a_message_link(api, settings)

    async with served(settings) as address:
        response = await browser_page.goto(f"http://{address}{path[:-4]}AAAA")

        assert response is not None
        assert response.status == 404
        await expect(browser_page.get_by_role("heading")).to_have_text("This link does not work")
        content = await browser_page.content()
    assert "Acme" not in content
    assert "example.com" not in content
    assert await MessagePreference.all().count() == 0
