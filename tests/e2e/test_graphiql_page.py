"""GraphiQL at /graphql as a developer uses it, offline: in a real headless chromium that may
reach nothing but the API, the page loads GraphiQL from the API itself, signs in through its
sign-in form (the token lands in the Headers editor), runs a query typed into the editor and
shows the answer."""

from __future__ import annotations

from playwright.async_api import Page, expect

from crm.graphiql_page import CACHE_FOREVER
from crm.settings import Settings
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Api
from tests.fixtures.served_api import served


async def test_graphiql_signs_in_and_runs_a_query_with_nothing_from_the_internet(
    api: Api, settings: Settings, browser_page: Page
) -> None:
    page = browser_page
    requested: list[str] = []
    failed: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    async with served(settings) as address:
        response = await page.goto(f"http://{address}/graphql")
        assert response is not None
        assert "connect-src 'self'" in response.headers["content-security-policy"]
        form = page.get_by_role("form", name="Sign in")
        await form.get_by_label("Email").fill(ADMIN_EMAIL)
        await form.get_by_label("Password").fill(ADMIN_PASSWORD)
        await form.get_by_role("button", name="Sign in").click()
        await expect(form.get_by_role("status")).to_contain_text(f"Signed in as {ADMIN_EMAIL}")

        await page.get_by_role("button", name="Headers").click()
        headers = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
        await expect(headers).to_contain_text('"Authorization": "Bearer ')

        query = page.locator(".graphiql-query-editor .CodeMirror")
        await query.click()
        await page.keyboard.press("Control+A")
        await page.keyboard.press("Delete")
        await page.keyboard.insert_text("query Me { me { email name } }")
        await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()

        result = page.locator(".graphiql-response .CodeMirror")
        await expect(result).to_contain_text(f'"email": "{ADMIN_EMAIL}"')
        await expect(result).to_contain_text('"name": "Ada Admin"')

    origin = f"http://{address}/"
    assert requested, "the page made no requests"
    assert [url for url in requested if not url.startswith(origin)] == []
    assert failed == []
    assert errors == []
    loaded = {url.removeprefix(origin).split("?")[0] for url in requested}
    assert "graphiql/graphiql-3.8.3.min.js" in loaded
    assert "graphiql/plugin-explorer-1.0.2.umd.js" in loaded


async def test_graphiql_assets_are_cached_for_good_and_only_they_are_served(api: Api) -> None:
    script = await api.client.get("/graphiql/graphiql-3.8.3.min.js")
    licence = await api.client.get("/graphiql/graphiql-3.8.3.LICENSE")
    page = await api.client.get("/graphiql/page.html")
    outside = await api.client.get("/graphiql/..%2Fsettings.py")

    assert script.status_code == 200
    assert script.headers["cache-control"] == CACHE_FOREVER
    assert script.headers["content-type"].startswith("text/javascript")
    assert licence.status_code == 200
    assert "MIT License" in licence.text
    assert (page.status_code, outside.status_code) == (404, 404)
