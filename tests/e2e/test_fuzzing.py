"""Property: whatever valid query or mutation a caller sends, the API answers it without a
server error. Documents are generated from the live schema (hypothesis-graphql), sent over real
HTTP as an admin, a sales person, a support agent, an API key and nobody, on SQLite and
PostgreSQL. `make test` runs a few per caller; `make fuzz` runs thousands
(`CRM_FUZZ_EXAMPLES`).
"""

from __future__ import annotations

import asyncio
import os
import string
from datetime import UTC
from typing import Any

import httpx
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import mutations, nodes, queries
from strawberry import relay

from crm.settings import Settings
from domain import api_keys
from domain.actors import ApiScope
from domain.roles import Role
from schema import schema
from tests.e2e.colleagues import acme_system, colleague
from tests.e2e.conftest import Api
from tests.fixtures.served_api import served

EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "4"))
SDL = str(schema)
RECORD_TYPES = ("Contact", "Customer", "Lead", "Deal", "CallingTask", "User", "Pipeline")


async def _records(api: Api) -> list[str]:
    """A few records of each kind, so generated ids sometimes name a real one."""
    contact = await api.created(
        "CreateContactInput", "createContact", "contact", {"firstName": "Fuzz", "emails": []}
    )
    customer = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Co"}
    )
    lead = await api.created(
        "CreateLeadInput", "createLead", "lead", {"title": "Lead", "contactId": contact}
    )
    deal = await api.created(
        "CreateDealInput",
        "createDeal",
        "deal",
        {"name": "Deal", "expectedCloseDate": "2030-01-01", "customerId": customer},
    )
    return [contact, customer, lead, deal]


def _scalars(known_ids: list[str]) -> dict[str, st.SearchStrategy[Any]]:
    """Values for the custom scalars: mostly well-formed, sometimes not."""
    ids = st.one_of(
        st.sampled_from(known_ids),
        st.builds(
            lambda kind, node: str(relay.GlobalID(kind, node)),
            st.sampled_from(RECORD_TYPES),
            st.one_of(st.uuids().map(str), st.text(string.printable, max_size=12)),
        ),
        st.text(max_size=20),
    )
    return {
        "ID": ids.map(nodes.String),
        "Date": st.one_of(st.dates().map(str), st.text(max_size=12)).map(nodes.String),
        "DateTime": st.one_of(
            st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
            st.text(max_size=25),
        ).map(nodes.String),
        "Decimal": st.one_of(
            st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
            st.text(max_size=10),
        ).map(nodes.String),
        "JSON": st.one_of(st.integers(), st.text(max_size=20)).map(
            lambda v: nodes.Int(v) if isinstance(v, int) else nodes.String(v)
        ),
    }


def _server_errors(base_url: str, tokens: dict[str, str | None], known_ids: list[str]) -> None:
    """Run the property (in a thread: hypothesis drives a blocking client) and raise on the
    first document any caller gets a server error for, shrunk to its smallest form."""
    scalars = _scalars(known_ids)
    documents = st.one_of(
        queries(SDL, custom_scalars=scalars), mutations(SDL, custom_scalars=scalars)
    )
    callers = st.sampled_from(sorted(tokens))

    with httpx.Client(base_url=base_url, timeout=30) as client:

        @settings(
            max_examples=EXAMPLES * len(tokens),
            deadline=None,
            derandomize=EXAMPLES <= 50,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(document=documents, caller=callers)
        def answers_without_a_server_error(document: str, caller: str) -> None:
            token = tokens[caller]
            headers = {"authorization": f"Bearer {token}"} if token else {}
            response = client.post("/graphql", json={"query": document}, headers=headers)
            assert response.status_code < 500, (caller, document, response.text)
            body = response.json()
            codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors", [])]
            assert "INTERNAL" not in codes, (caller, document, body)

        answers_without_a_server_error()


async def test_no_generated_query_or_mutation_gets_a_server_error(
    api: Api, settings: Settings
) -> None:
    known_ids = await _records(api)
    tokens: dict[str, str | None] = {"anonymous": None, "admin": api.token}
    for role in (Role.SALES_PERSON, Role.CUSTOMER_SUPPORT):
        caller, _ = await colleague(api, role)
        tokens[role.value] = caller.token
    key = await api_keys.create_api_key(
        await acme_system(), "fuzz", [ApiScope.READ, ApiScope.WRITE], None
    )
    tokens["api_key"] = key.secret
    # One caller sends thousands of documents in `make fuzz`: far past a person's allowance.
    unlimited = settings.model_copy(
        update={"rate_requests_per_minute": 0, "rate_cost_per_minute": 0}
    )
    async with served(unlimited) as address:
        await asyncio.to_thread(_server_errors, f"http://{address}", tokens, known_ids)
