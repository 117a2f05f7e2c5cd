"""The password reset page as a person uses it: in a real headless chromium, set a new password
from the emailed link (typed twice); the link then works no more, and a bad link gets a page
that names nobody and is never written to the log."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect
from pydantic import SecretStr

from crm.settings import Settings
from db.sessions import PasswordReset
from db.users import User
from domain.password_resets import ResetLimits, request_password_reset
from domain.roles import Role
from domain.signed_links import LinkConfig, LinkPurpose, sign
from tests.e2e.colleagues import colleague
from tests.e2e.conftest import Api
from tests.fixtures.served_api import served

NEW_PASSWORD = "a brand new passphrase"
NO_FLOOR = ResetLimits(answer_floor=timedelta(0))


async def a_reset(api: Api, settings: Settings) -> tuple[User, str, Api]:
    """A sales person (signed in) who asked for a reset: the user, the link's path, the
    session they had."""
    signed_in, rep_id = await colleague(api, Role.SALES_PERSON)
    user = await User.get(id=rep_id)
    links = settings.unsubscribe_links()
    await request_password_reset(links, NO_FLOOR, user.email, "127.0.0.1")
    reset = await PasswordReset.get(user_id=user.id)
    return (
        user,
        f"/reset-password/{sign(links, LinkPurpose.PASSWORD_RESET, str(reset.id))}",
        signed_in,
    )


async def test_a_person_sets_a_new_password_on_the_page_in_a_browser(
    api: Api, settings: Settings, browser_page: Page
) -> None:
    user, path, signed_in = await a_reset(api, settings)

    async with served(settings) as address:
        page = browser_page
        response = await page.goto(f"http://{address}{path}")
        assert response is not None
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        await expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()

        await page.get_by_label("New password").fill(NEW_PASSWORD)
        await page.get_by_label("The same again").fill(NEW_PASSWORD + "!")
        await page.get_by_role("button", name="Set my password").click()
        await expect(page.get_by_role("alert")).to_have_text(
            "The two passwords differ: type the same one twice."
        )

        await page.get_by_label("New password").fill(NEW_PASSWORD)
        await page.get_by_label("The same again").fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Set my password").click()
        await expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()

        await page.goto(f"http://{address}{path}")
        await expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    body = (await signed_in.post({"query": "{ me { email } }"})).json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await api.sign_in(user.email, NEW_PASSWORD)


async def test_a_bad_link_gets_a_page_that_names_nobody(
    api: Api, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    links = settings.unsubscribe_links()
    for tamper in ("forged", "expired", "used", "unknown", "unsubscribe"):
        user, path, _ = await a_reset(api, settings)
        reset = await PasswordReset.get(user_id=user.id)
        token = path.removeprefix("/reset-password/")
        if tamper == "forged":
            other = LinkConfig(links.public_url, SecretStr("another secret"))
            token = sign(other, LinkPurpose.PASSWORD_RESET, str(reset.id))
        elif tamper == "expired":
            await PasswordReset.filter(id=reset.id).update(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        elif tamper == "used":
            await PasswordReset.filter(id=reset.id).update(used_at=datetime.now(UTC))
        elif tamper == "unknown":
            token = sign(links, LinkPurpose.PASSWORD_RESET, str(uuid.uuid4()))
        else:  # a good link of another page
            token = sign(links, LinkPurpose.UNSUBSCRIBE, 1)

        with caplog.at_level(logging.INFO):
            shown = await api.client.get(f"/reset-password/{token}")
            form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
            posted = await api.client.post(f"/reset-password/{token}", data=form)

        for response in (shown, posted):
            assert response.status_code == 404, tamper
            assert "This link does not work" in response.text
            assert user.email not in response.text
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("crm"))
        assert token not in logged
        assert NEW_PASSWORD not in logged
        assert (await User.get(id=user.id)).password_hash == user.password_hash, tamper
