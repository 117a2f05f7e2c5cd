"""Media-type negotiation of the GraphQL endpoint and field paths in user errors."""

from __future__ import annotations

import pytest

from crm.graphql_http import GRAPHQL_RESPONSE_JSON, JSON, negotiate
from resolvers.errors import input_path


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", JSON),
        ("application/json", JSON),
        ("*/*", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON}", JSON),
        ("text/html", None),
        ("text/csv, image/png", None),
    ],
)
def test_accept_header_picks_the_response_media_type(accept: str, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


@pytest.mark.parametrize(
    ("domain_path", "api_path"),
    [
        (None, None),
        ("first_name", "firstName"),
        ("emails.0", "emails.0"),
        ("address.postal_code", "address.postalCode"),
    ],
)
def test_error_fields_use_the_names_the_client_sent(
    domain_path: str | None, api_path: str | None
) -> None:
    assert input_path(domain_path) == api_path
