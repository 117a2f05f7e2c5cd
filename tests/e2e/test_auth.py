"""Signing in and out, tokens, throttling, API keys and the audit log, through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from httpx_ws import WebSocketDisconnect

from crm.settings import Settings
from db.api_keys import ApiKey
from db.sessions import LoginFailure
from db.users import User
from domain import users
from domain.actors import Actor
from domain.auth import JWT_ALGORITHM
from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, LOGIN, Api, make_settings, open_api

ME = "{ me { email roles } }"
REFRESH = """
mutation Refresh($token: String!) {
  refreshSession(input: {refreshToken: $token}) {
    accessToken refreshToken errors { code message }
  }
}"""
LOGOUT = "mutation { logout { ok errors { code } } }"
CONTACTS = "{ contacts(first: 5) { edges { node { firstName } } } }"
CREATE_CONTACT = """
mutation { createContact(input: {firstName: "Kim"}) { contact { id } errors { code } } }"""
CREATE_KEY = """
mutation Key($scopes: [ApiScope!]!, $expiresAt: DateTime) {
  createApiKey(input: {name: "Zapier", scopes: $scopes, expiresAt: $expiresAt}) {
    apiKey { id prefix scopes } secret errors { field code message }
  }
}"""
REVOKE_KEY = """
mutation Revoke($id: ID!) {
  revokeApiKey(input: {id: $id}) { apiKey { revokedAt } errors { code } }
}"""


async def login(api: Api, email: str, password: str) -> dict[str, Any]:
    payload: dict[str, Any] = (
        await api.as_(None).graphql(LOGIN, {"email": email, "password": password})
    )["login"]
    return payload


async def error_code(api: Api, document: str, variables: dict[str, Any] | None = None) -> str:
    body = (await api.post({"query": document, "variables": variables or {}})).json()
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_login_gives_tokens_that_identify_the_user(api: Api) -> None:
    payload = await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert payload["errors"] == []
    assert payload["user"]["roles"] == ["ADMIN"]
    me = await api.as_(payload["accessToken"]).graphql(ME)
    assert me == {"me": {"email": ADMIN_EMAIL, "roles": ["ADMIN"]}}


async def test_wrong_password_and_unknown_email_fail_alike(api: Api) -> None:
    wrong = await login(api, ADMIN_EMAIL, "not the password")
    unknown = await login(api, "nobody@acme.example.com", "not the password")
    assert wrong["errors"] == unknown["errors"]
    assert wrong["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert wrong["accessToken"] is None


async def test_repeated_failures_lock_the_account_for_a_while(api: Api) -> None:
    for _ in range(5):
        await login(api, ADMIN_EMAIL, "guessing")
    locked = await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
    assert locked["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
    assert locked["accessToken"] is None
    await LoginFailure.all().update(occurred_at=datetime.now(UTC) - timedelta(hours=1))
    assert (await login(api, ADMIN_EMAIL, ADMIN_PASSWORD))["errors"] == []


async def test_failures_from_a_shared_address_do_not_lock_out_who_signs_in_there(
    tmp_path: Path, database_url: str
) -> None:
    """An office behind one NAT: a bot (or many typos) fails for other accounts from the
    office's address until the address limit; colleagues who signed in from there before still
    get in, an account never used from there is held, and guessing one account still locks it."""
    settings = make_settings(database_url, tmp_path, login_max_failures_per_address=10)
    async with open_api(settings) as api:  # the admin signed in: known at this address
        colleague_email = "new.hire@acme.example.com"
        admin = await User.get(email=ADMIN_EMAIL)
        await users.create_user(
            Actor.system(admin.agency_id, "test"),
            {
                "email": colleague_email,
                "name": "New",
                "password": ADMIN_PASSWORD,
                "roles": ["sales_person"],
            },
        )
        for n in range(10):
            failed = await login(api, f"someone.{n}@acme.example.com", "spraying")
            assert failed["errors"][0]["code"] == "INVALID_CREDENTIALS"

        known = await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
        never_here = await login(api, colleague_email, ADMIN_PASSWORD)
        sprayed = await login(api, "someone.11@acme.example.com", "spraying")
        assert known["errors"] == []
        assert never_here["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
        assert sprayed["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"
        for _ in range(5):
            await login(api, ADMIN_EMAIL, "guessing")
        guessed = await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert guessed["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"


async def test_anonymous_callers_reach_only_sign_in_and_the_schema(api: Api) -> None:
    anonymous = api.as_(None)
    for document in (ME, CONTACTS, CREATE_CONTACT, LOGOUT, "{ auditEntries { edges { cursor } } }"):
        assert await error_code(anonymous, document) == "UNAUTHENTICATED"
    introspection = await anonymous.graphql("{ __schema { queryType { name } } }")
    assert introspection == {"__schema": {"queryType": {"name": "Query"}}}


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(api: Api) -> None:
    first = await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
    second = (await api.as_(None).graphql(REFRESH, {"token": first["refreshToken"]}))[
        "refreshSession"
    ]
    assert second["errors"] == []
    assert second["refreshToken"] != first["refreshToken"]
    assert (await api.as_(second["accessToken"]).graphql(ME))["me"]["email"] == ADMIN_EMAIL

    replayed = (await api.as_(None).graphql(REFRESH, {"token": first["refreshToken"]}))[
        "refreshSession"
    ]
    assert replayed["errors"][0]["code"] == "INVALID_TOKEN"
    # The theft is detected: the legitimate holder's tokens die with the session too.
    assert await error_code(api.as_(second["accessToken"]), ME) == "UNAUTHENTICATED"
    after = await api.as_(None).graphql(REFRESH, {"token": second["refreshToken"]})
    assert after["refreshSession"]["errors"][0]["code"] == "INVALID_TOKEN"


async def test_logout_ends_access_and_refresh_at_once(api: Api) -> None:
    session = await login(api, ADMIN_EMAIL, ADMIN_PASSWORD)
    signed_in = api.as_(session["accessToken"])
    assert (await signed_in.graphql(LOGOUT))["logout"] == {"ok": True, "errors": []}
    assert await error_code(signed_in, ME) == "UNAUTHENTICATED"
    refreshed = await api.as_(None).graphql(REFRESH, {"token": session["refreshToken"]})
    assert refreshed["refreshSession"]["errors"][0]["code"] == "INVALID_TOKEN"


@pytest.mark.parametrize("problem", ["expired", "forged", "garbage", "wrong_scheme"])
async def test_bad_access_tokens_are_unauthenticated(
    api: Api, settings: Settings, problem: str
) -> None:
    user = await User.get(email=ADMIN_EMAIL)
    claims = {
        "sub": str(user.id),
        "agency": str(user.agency_id),
        "sid": "00000000-0000-0000-0000-000000000000",
        "typ": "access",
        "exp": datetime.now(UTC) + timedelta(minutes=5),
    }
    secret = settings.secret_key.get_secret_value()
    tokens = {
        "expired": jwt.encode(
            {**claims, "exp": datetime.now(UTC) - timedelta(minutes=1)}, secret, JWT_ALGORITHM
        ),
        "forged": jwt.encode(claims, "an attacker's own secret, forty characters", JWT_ALGORITHM),
        "garbage": "definitely.not.a-jwt",
    }
    if problem == "wrong_scheme":
        response = await api.client.post(
            "/graphql", json={"query": ME}, headers={"authorization": f"Basic {api.token}"}
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        return
    assert await error_code(api.as_(tokens[problem]), ME) == "UNAUTHENTICATED"


async def test_deactivated_user_is_locked_out_at_once(api: Api) -> None:
    await User.filter(email=ADMIN_EMAIL).update(is_active=False)
    assert await error_code(api, ME) == "UNAUTHENTICATED"
    assert (await login(api, ADMIN_EMAIL, ADMIN_PASSWORD))["errors"][0]["code"] == (
        "INVALID_CREDENTIALS"
    )


async def create_key(api: Api, scopes: list[str], expires_at: str | None = None) -> dict[str, Any]:
    data = await api.graphql(CREATE_KEY, {"scopes": scopes, "expiresAt": expires_at})
    payload: dict[str, Any] = data["createApiKey"]
    assert payload["errors"] == [], payload["errors"]
    return payload


async def test_api_key_is_shown_once_stored_hashed_and_works_within_its_scopes(api: Api) -> None:
    created = await create_key(api, ["READ"])
    secret = created["secret"]
    assert secret.startswith("crm_")
    stored = await ApiKey.get(prefix=created["apiKey"]["prefix"])
    assert secret.split("_", 2)[2] not in (stored.key_hash, stored.prefix)
    listed = await api.graphql("{ apiKeys { prefix scopes } }")
    assert "secret" not in str(listed)

    integrator = api.as_(secret)
    assert "contacts" in await integrator.graphql(CONTACTS)
    refused = (await integrator.graphql(CREATE_CONTACT))["createContact"]
    assert refused == {"contact": None, "errors": [{"code": "FORBIDDEN"}]}
    assert (await integrator.graphql(ME)) == {"me": None}


async def test_revoked_and_expired_api_keys_stop_working(api: Api) -> None:
    created = await create_key(api, ["READ", "WRITE"])
    integrator = api.as_(created["secret"])
    assert (await integrator.graphql(CREATE_CONTACT))["createContact"]["errors"] == []
    revoked = await api.graphql(REVOKE_KEY, {"id": created["apiKey"]["id"]})
    assert revoked["revokeApiKey"]["errors"] == []
    assert await error_code(integrator, CONTACTS) == "UNAUTHENTICATED"

    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    expiring = await create_key(api, ["READ"], soon)
    await ApiKey.filter(prefix=expiring["apiKey"]["prefix"]).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert await error_code(api.as_(expiring["secret"]), CONTACTS) == "UNAUTHENTICATED"


async def test_api_key_with_a_forged_secret_is_refused(api: Api) -> None:
    created = await create_key(api, ["READ"])
    forged = created["secret"][:-4] + "AAAA"
    assert await error_code(api.as_(forged), CONTACTS) == "UNAUTHENTICATED"


async def test_websocket_accepts_an_api_key_in_connection_init(api: Api) -> None:
    created = await create_key(api, ["READ"])
    async with api.websocket() as ws:
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {created['secret']}"},
        }
        await ws.send_json(init)
        assert (await ws.receive_json())["type"] == "connection_ack"
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": CONTACTS}})
        message = await ws.receive_json()
        assert message["payload"]["data"] == {"contacts": {"edges": []}}


async def test_websocket_with_bad_credentials_is_closed(api: Api) -> None:
    async with api.websocket() as ws:
        bad = {"type": "connection_init", "payload": {"Authorization": "Bearer crm_bad_key"}}
        await ws.send_json(bad)
        with pytest.raises(WebSocketDisconnect) as closed:
            await ws.receive_json()
    assert closed.value.code == 4403


async def test_admin_reads_the_audit_log_with_filters(api: Api) -> None:
    await api.graphql(CREATE_CONTACT)
    data = await api.graphql(
        """{ auditEntries(first: 10, filter: {entityType: "contact"}) {
              edges { node { actorId entityType action requestId after } } } }"""
    )
    entries = [edge["node"] for edge in data["auditEntries"]["edges"]]
    assert [e["action"] for e in entries] == ["create"]
    assert entries[0]["actorId"].startswith("user:")
    assert entries[0]["requestId"]
    assert entries[0]["after"]["first_name"] == "Kim"


async def test_the_api_offers_no_way_to_change_the_audit_log(api: Api) -> None:
    mutations = (await api.graphql("{ __schema { mutationType { fields { name } } } }"))[
        "__schema"
    ]["mutationType"]["fields"]
    assert not [f["name"] for f in mutations if "audit" in f["name"].lower()]
