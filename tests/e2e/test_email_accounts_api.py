"""Connected mailboxes over GraphQL against a real IMAP server: a sales person connects their
own, the password goes in and never comes out (nor into the audit log), colleagues cannot see
or remove it, admins can, and credentials the server refuses are a typed error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from crm.settings import Settings
from db.audit import AuditEntry
from db.email_accounts import EmailAccount
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api, make_settings, open_api
from tests.fixtures.imap import ImapServer, Mailbox

ERRORS = "errors { field code message }"
ACCOUNT = "id purpose host port security username folder status lastError userId"
ADD = f"""
mutation($input: AddEmailAccountInput!) {{
  addEmailAccount(input: $input) {{ emailAccount {{ {ACCOUNT} }} {ERRORS} }}
}}"""
REMOVE = f"""
mutation($id: ID!) {{
  removeEmailAccount(input: {{id: $id}}) {{ emailAccount {{ id }} {ERRORS} }}
}}"""
LIST = "{ emailAccounts { id username } }"


@pytest.fixture
async def settings(database_url: str, tmp_path: Path) -> Settings:
    # The tests' dovecot listens on loopback: allowed here, refused by default.
    return make_settings(database_url, tmp_path, mailbox_allow_private_hosts=True)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with open_api(settings) as opened:
        yield opened


def account_input(mailbox: Mailbox, **fields: Any) -> dict[str, Any]:
    return {
        "host": mailbox.server.host,
        "port": mailbox.server.port,
        "security": "NONE",
        "username": mailbox.username,
        "password": mailbox.password,
        **fields,
    }


async def test_a_sales_person_connects_their_mailbox_and_only_they_and_admins_see_it(
    api: Api, imap_server: ImapServer
) -> None:
    seller, _ = await colleague(api, Role.SALES_PERSON)
    other_seller, _ = await colleague(api, Role.SALES_PERSON)
    mailbox = imap_server.new_mailbox()

    added = (await seller.graphql(ADD, {"input": account_input(mailbox)}))["addEmailAccount"]

    assert added["errors"] == []
    account = added["emailAccount"]
    assert (account["purpose"], account["security"], account["status"]) == ("SALES", "NONE", "OK")
    assert mailbox.password not in json.dumps(added)
    assert [a["id"] for a in (await seller.graphql(LIST))["emailAccounts"]] == [account["id"]]
    assert [a["id"] for a in (await api.graphql(LIST))["emailAccounts"]] == [account["id"]]
    assert (await other_seller.graphql(LIST))["emailAccounts"] == []
    assert (await (await other_agency_admin(api)).graphql(LIST))["emailAccounts"] == []
    audited = await AuditEntry.filter(entity_type="email_account").values_list("after", flat=True)
    assert audited
    assert mailbox.password not in json.dumps(audited)
    stored = await EmailAccount.get(username=mailbox.username)
    assert mailbox.password not in stored.password_encrypted

    refused = (await other_seller.graphql(REMOVE, {"id": account["id"]}))["removeEmailAccount"]
    assert refused["errors"][0]["code"] == "NOT_FOUND"
    removed = (await seller.graphql(REMOVE, {"id": account["id"]}))["removeEmailAccount"]
    assert removed == {"emailAccount": {"id": account["id"]}, "errors": []}
    assert (await api.graphql(LIST))["emailAccounts"] == []


async def test_credentials_the_server_refuses_are_a_typed_error_and_nothing_is_kept(
    api: Api, imap_server: ImapServer
) -> None:
    mailbox = imap_server.new_mailbox()

    wrong = account_input(mailbox, password="not the password")
    refused = (await api.graphql(ADD, {"input": wrong}))["addEmailAccount"]
    assert refused["emailAccount"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("password", "SIGN_IN_FAILED")]

    closed = account_input(mailbox, port=1)
    unreachable = (await api.graphql(ADD, {"input": closed}))["addEmailAccount"]
    assert [e["code"] for e in unreachable["errors"]] == ["UNREACHABLE"]

    twice = account_input(mailbox)
    assert (await api.graphql(ADD, {"input": twice}))["addEmailAccount"]["errors"] == []
    again = (await api.graphql(ADD, {"input": twice}))["addEmailAccount"]
    assert [e["code"] for e in again["errors"]] == ["DUPLICATE"]
    assert await EmailAccount.all().count() == 1
