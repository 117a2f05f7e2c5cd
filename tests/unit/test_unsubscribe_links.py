"""Unsubscribe links: signed for one message, refused when forged, altered, expired, or when
something else signed with the same secret (an access token) is presented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import SecretStr

from domain.unsubscribe_links import InvalidLink, LinkConfig, link_token, message_of

LINKS = LinkConfig(public_url="https://crm.example.com/", secret_key=SecretStr("s" * 40))


def test_a_link_names_its_message_and_points_at_the_public_page() -> None:
    token = link_token(LINKS, 42)

    assert message_of(LINKS, token) == 42
    assert LINKS.page_url(token) == f"https://crm.example.com/unsubscribe/{token}"


@pytest.mark.parametrize(
    "token",
    [
        link_token(LinkConfig(LINKS.public_url, SecretStr("another secret")), 42),
        link_token(LINKS, 42)[:-2] + "xx",
        link_token(LINKS, 42, now=datetime.now(UTC) - LINKS.lifetime - timedelta(seconds=1)),
        # An access token signed with the application secret itself is not a link.
        jwt.encode(
            {"m": 42, "aud": "unsubscribe", "exp": datetime.now(UTC) + timedelta(days=1)},
            LINKS.secret_key.get_secret_value(),
            algorithm="HS256",
        ),
        jwt.encode({"m": 42}, "", algorithm="none"),
        "x" * 600,
        "",
    ],
    ids=["forged", "altered", "expired", "app-secret", "unsigned", "huge", "empty"],
)
def test_anything_but_a_good_link_is_refused_alike(token: str) -> None:
    with pytest.raises(InvalidLink):
        message_of(LINKS, token)
