"""Media-type negotiation of the GraphQL endpoint, its 503 for a busy database, and field paths
in user errors."""

from __future__ import annotations

import pytest
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from crm.graphql_http import GRAPHQL_RESPONSE_JSON, JSON, negotiate, refused_as_busy
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


def failed(path: str, code: str = "BUSY") -> GraphQLError:
    return GraphQLError("It failed.", path=[path], extensions={"code": code})


@pytest.mark.parametrize(
    ("data", "errors", "refused"),
    [
        (None, [failed("createContact")], True),
        ({"a": None, "b": None}, [failed("a"), failed("b")], True),
        # The first mutation was done: resending the document would repeat it.
        ({"a": {"id": "1"}, "b": None}, [failed("b")], False),
        (
            None,
            [GraphQLError("Internal error.", path=["a"], extensions={"code": "INTERNAL"})],
            False,
        ),
        ({"a": {"id": "1"}}, None, False),
    ],
)
def test_only_an_operation_refused_whole_as_busy_is_a_503(
    data: dict[str, object] | None, errors: list[GraphQLError] | None, refused: bool
) -> None:
    assert refused_as_busy(ExecutionResult(data=data, errors=errors)) is refused
