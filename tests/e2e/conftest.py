"""The API as a client app sees it: the ASGI app with its lifespan, over HTTP and websockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from crm.app import create_app
from crm.settings import Settings
from db.agencies import Agency
from db.users import User
from domain.agencies import bootstrap_agency
from domain.card_reader import CardReader
from tests.fixtures.flows import Flows
from tests.fixtures.smtp import SmtpServer

# A port nothing listens on: /readyz reports Temporal down unless a test passes a real one.
UNREACHABLE_TEMPORAL = "127.0.0.1:9"


ADMIN_EMAIL = "admin@acme.example.com"
ADMIN_PASSWORD = "correct horse battery staple"

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    accessToken refreshToken expiresAt user { id email roles } errors { field code message }
  }
}"""


class Api:
    """An HTTP client over the app, acting as one caller (a token, an API key, or nobody)."""

    def __init__(self, client: httpx.AsyncClient, app: Starlette, token: str | None = None):
        self.client = client
        self.app = app
        self.token = token

    def as_(self, token: str | None) -> Api:
        """The same app and client, acting with other credentials (None: anonymous)."""
        return Api(self.client, self.app, token)

    def headers(self, **extra: str) -> dict[str, str]:
        auth = {"authorization": f"Bearer {self.token}"} if self.token else {}
        return {**auth, **extra}

    async def post(self, json: Any = None, **kwargs: Any) -> httpx.Response:
        """POST to /graphql with this caller's credentials."""
        headers = self.headers(**kwargs.pop("headers", {}))
        return await self.client.post("/graphql", json=json, headers=headers, **kwargs)

    async def sign_in(self, email: str, password: str) -> Api:
        """Log in through the API and return a client acting as that user."""
        data = await self.as_(None).graphql(LOGIN, {"email": email, "password": password})
        assert data["login"]["errors"] == [], data["login"]["errors"]
        return self.as_(data["login"]["accessToken"])

    @asynccontextmanager
    async def websocket(self) -> AsyncIterator[AsyncWebSocketSession]:
        """A graphql-transport-ws connection to /graphql.

        Its transport runs the app in a task group, which must be entered and left in the same
        task: so it lives inside the test, not in the fixture.
        """
        transport = ASGIWebSocketTransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
            connection: AbstractAsyncContextManager[AsyncWebSocketSession] = aconnect_ws(
                "/graphql", client, subprotocols=["graphql-transport-ws"]
            )
            async with connection as ws:
                yield ws

    async def created(self, mutation: str, field: str, record: str, fields: dict[str, Any]) -> str:
        """Run a create-like mutation (`field` taking a `mutation` input) that returns `record`
        in its payload; assert it had no errors and return the record's global id."""
        data = await self.graphql(
            f"mutation($input: {mutation}!) {{ {field}(input: $input) {{ {record} {{ id }} "
            "errors { code message } } }",
            {"input": fields},
        )
        assert data[field]["errors"] == [], data[field]["errors"]
        record_id: str = data[field][record]["id"]
        return record_id

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        """POST a GraphQL request, assert it was well-formed, and return its `data`."""
        response = await self.post({"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": tmp_path,
        "temporal_address": UNREACHABLE_TEMPORAL,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
async def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@asynccontextmanager
async def open_api(settings: Settings, card_reader: CardReader | None = None) -> AsyncIterator[Api]:
    """The app with its real lifespan (database opened and closed by the app itself), reading
    visiting cards with `card_reader` if given (one OCR model for the run)."""
    app = create_app(settings, card_reader)
    async with app.router.lifespan_context(app):
        # Tests read and write the database directly too, in the app's own Tortoise context.
        with app.state.database:
            await bootstrap_agency("Acme", "acme", ADMIN_EMAIL, "Ada Admin", ADMIN_PASSWORD)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://crm.test") as client:
                yield await Api(client, app).sign_in(ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with open_api(settings) as opened:
        yield opened


@pytest.fixture
async def sending(
    api: Api,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    task_queue: str,
    smtp_server: SmtpServer,
) -> Flows:
    """A relay and a worker delivering Acme's messages and broadcasts (time skipping), signing
    unsubscribe links as the API checks them; Acme has a postal address for the footer."""
    admin = await User.get(email=ADMIN_EMAIL)
    await Agency.filter(id=admin.agency_id).update(
        street="1 Fleet Street", city="London", postal_code="EC4Y 1AA", country="GB"
    )
    return Flows(
        temporal_env.client,
        task_queue,
        smtp_server,
        admin.agency_id,
        owner_id=admin.id,
        skips_time=True,
        support_id=admin.id,
        head_id=admin.id,
        links=settings.unsubscribe_links(),
        storage=settings.storage(),
    )
