"""Signed links (unsubscribe, booking, password reset): signed for one subject and purpose,
refused when forged, altered, expired, of another purpose, or when something else signed with
the same secret (an access token) is presented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import SecretStr

from crm.middleware import logged_path
from domain.signed_links import InvalidLink, LinkConfig, LinkPurpose, fingerprint, sign, subject_of
from domain.unsubscribe_links import link_token, message_of

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


def test_a_link_of_one_purpose_never_passes_for_another() -> None:
    booking = sign(LINKS, LinkPurpose.BOOKING, 42)

    assert subject_of(LINKS, LinkPurpose.BOOKING, booking) == 42
    assert LINKS.page_url(booking, LinkPurpose.BOOKING) == f"https://crm.example.com/book/{booking}"
    with pytest.raises(InvalidLink):
        message_of(LINKS, booking)
    with pytest.raises(InvalidLink):
        subject_of(LINKS, LinkPurpose.BOOKING, link_token(LINKS, 42))


def test_the_request_log_writes_only_a_fingerprint_of_either_pages_token() -> None:
    token = sign(LINKS, LinkPurpose.BOOKING, "a-meeting")

    assert logged_path(f"/book/{token}") == f"/book/{fingerprint(token)}"
    assert logged_path(f"/unsubscribe/{token}") == f"/unsubscribe/{fingerprint(token)}"
    assert logged_path("/graphql") == "/graphql"


def test_a_reset_link_is_short_lived_its_own_page_and_only_its_fingerprint_is_logged() -> None:
    issued = datetime.now(UTC)
    token = sign(LINKS, LinkPurpose.PASSWORD_RESET, "a-reset", now=issued)
    late = sign(LINKS, LinkPurpose.PASSWORD_RESET, "a-reset", now=issued - timedelta(minutes=31))

    assert subject_of(LINKS, LinkPurpose.PASSWORD_RESET, token) == "a-reset"
    assert LINKS.page_url(token, LinkPurpose.PASSWORD_RESET) == (
        f"https://crm.example.com/reset-password/{token}"
    )
    with pytest.raises(InvalidLink):
        subject_of(LINKS, LinkPurpose.PASSWORD_RESET, late)
    with pytest.raises(InvalidLink):
        subject_of(LINKS, LinkPurpose.BOOKING, token)
    assert logged_path(f"/reset-password/{token}") == f"/reset-password/{fingerprint(token)}"
