"""The integrator examples of docs/events.md (linked from the README) run as written: the
subscription client against a real server over TCP, and the signature check against what the
webhook activity sends."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from db.events import Event
from domain.agencies import bootstrap_agency
from domain.event_subscriptions import event_cursor
from domain.webhook_signatures import new_webhook_secret, signature_header
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, LOGIN, make_settings
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.served_api import served

EVENTS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def example(name: str) -> dict[str, Any]:
    """The names an example of the page defines, run as a module would run it."""
    found = re.search(
        rf"<!-- example:{name} -->\n```python\n(.*?)```\n<!-- /example:{name} -->",
        EVENTS_PAGE.read_text(),
        re.DOTALL,
    )
    assert found is not None, f"docs/events.md has no example {name!r}"
    namespace: dict[str, Any] = {"__name__": f"readme_{name}"}
    exec(compile(found.group(1), f"docs/events.md:{name}", "exec"), namespace)
    return namespace


def test_the_readme_verifies_a_webhook_signature() -> None:
    verify: Callable[[str, bytes, str], bool] = example("verify")["verify"]
    secret, body = new_webhook_secret(), b'{"id":"7","type":"contact.created"}'
    header = signature_header(secret, body, int(time.time()))
    assert verify(secret, body, header)
    assert not verify(new_webhook_secret(), body, header)
    assert not verify(secret, body + b" ", header)
    assert not verify(secret, body, signature_header(secret, body, int(time.time()) - 3_600))


async def test_the_readme_client_follows_changes_and_resumes_from_its_cursor(
    db: OpenDatabase, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    follow = example("follow")["follow"]
    await bootstrap_agency("Acme", "acme", ADMIN_EMAIL, "Ada Admin", ADMIN_PASSWORD)
    cursor_file = tmp_path / "crm-cursor.txt"
    async with (
        served(make_settings(db.url, tmp_path)) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http,
    ):
        login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        answer = await http.post("/graphql", json={"query": LOGIN, "variables": login})
        admin = {"authorization": f"Bearer {answer.json()['data']['login']['accessToken']}"}

        async def graphql(query: str) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": query}, headers=admin)
            data: dict[str, Any] = response.json()["data"]
            return data

        key = await graphql(
            'mutation { createApiKey(input: {name: "follower", scopes: [READ, SUBSCRIBE]}) '
            "{ secret } }"
        )
        api_key = key["createApiKey"]["secret"]

        async def create(name: str) -> None:
            created = await graphql(
                f'mutation {{ createContact(input: {{firstName: "{name}"}}) '
                "{ errors { code } } }"
            )
            assert created["createContact"]["errors"] == []

        async def run_until_caught_up(change: Callable[[], Any]) -> None:
            """Run the page's client until it has processed the newest event after `change`."""
            following = asyncio.create_task(follow(f"ws://{address}/graphql", api_key, cursor_file))
            await change()  # before or after it subscribed: it resumes from the cursor file
            newest = await Event.all().order_by("-id").first()
            assert newest is not None
            for _ in range(1_000):
                if cursor_file.exists() and cursor_file.read_text() == event_cursor(newest.id):
                    break
                await asyncio.sleep(0.01)
            following.cancel()
            with pytest.raises(asyncio.CancelledError):
                await following

        newest = await Event.all().order_by("-id").first()
        assert newest is not None
        cursor_file.write_text(event_cursor(newest.id))  # start from now
        await run_until_caught_up(lambda: create("First"))
        first_run = capsys.readouterr().out
        await create("While offline")
        await run_until_caught_up(lambda: create("After restart"))
        second_run = capsys.readouterr().out
    assert first_run.count("contact.created") == 1
    # The restart replays what it missed from the cursor on, and nothing it had seen.
    assert second_run.count("contact.created") == 2, second_run
