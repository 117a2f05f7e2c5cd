"""Webhook signatures: what a receiver checks (see the verification snippet in docs/events.md)."""

from __future__ import annotations

import hashlib
import hmac

from domain.webhook_signatures import new_webhook_secret, signature_header, verify_signature

BODY = b'{"id":"42","type":"contact.created"}'
NOW = 1_800_000_000


def test_a_signature_verifies_with_the_secret_that_made_it() -> None:
    secret = new_webhook_secret()
    assert verify_signature(secret, BODY, signature_header(secret, BODY, NOW), now=NOW)


def test_a_signature_fails_with_another_secret_or_another_body() -> None:
    secret = new_webhook_secret()
    header = signature_header(secret, BODY, NOW)
    assert not verify_signature(new_webhook_secret(), BODY, header, now=NOW)
    assert not verify_signature(secret, BODY.replace(b"42", b"43"), header, now=NOW)


def test_an_old_signature_is_refused_as_a_replay() -> None:
    secret = new_webhook_secret()
    header = signature_header(secret, BODY, NOW)
    assert verify_signature(secret, BODY, header, now=NOW + 299)
    assert not verify_signature(secret, BODY, header, now=NOW + 301)


def test_the_header_is_a_timestamp_and_a_hex_hmac_of_timestamp_dot_body() -> None:
    header = signature_header("whsec_test", BODY, NOW)
    expected = hmac.new(b"whsec_test", f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"


def test_a_malformed_header_does_not_verify() -> None:
    for header in ("", "v1=abc", "t=notanumber,v1=abc", f"t={NOW}"):
        assert not verify_signature("whsec_test", BODY, header, now=NOW)
