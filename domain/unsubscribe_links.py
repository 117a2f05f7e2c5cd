"""Signed unsubscribe links: who holds one may change the consent of the message's recipient.

A link names only the message (its id) and an expiry, signed with a key derived from the
application secret for this purpose alone, so an access token can never pass for a link nor
a link for a token. Everything else (agency, recipient, kind) is read from the message row:
the link carries nothing worth reading, and a forged, altered or expired one is refused
without saying which of the three it was.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import jwt
from pydantic import SecretStr

from domain.public_pages import logo_path, unsubscribe_path

ALGORITHM = "HS256"
PURPOSE = b"crm unsubscribe links v1"
AUDIENCE = "unsubscribe"


@dataclass(frozen=True)
class LinkConfig:
    """Where the CRM is reached from outside (its web address, and the mail domain under which
    each agency gets its inbound addresses: empty turns inbound mail off), and how links are
    signed and for how long."""

    public_url: str
    secret_key: SecretStr
    lifetime: timedelta = timedelta(days=365)
    inbound_domain: str = ""

    def page_url(self, token: str) -> str:
        return self.public_url.rstrip("/") + unsubscribe_path(token)

    def logo_url(self, document_id: UUID) -> str:
        return self.public_url.rstrip("/") + logo_path(document_id)


class InvalidLink(Exception):
    """Not a link this CRM signed, altered, or expired."""


def _key(config: LinkConfig) -> bytes:
    return hmac.new(config.secret_key.get_secret_value().encode(), PURPOSE, "sha256").digest()


def link_token(config: LinkConfig, message_id: int, now: datetime | None = None) -> str:
    issued = now or datetime.now(UTC)
    claims = {"m": message_id, "aud": AUDIENCE, "exp": issued + config.lifetime}
    return jwt.encode(claims, _key(config), algorithm=ALGORITHM)


def message_of(config: LinkConfig, token: str) -> int:
    """The message id a valid link names; `InvalidLink` for anything else."""
    if len(token) > 512:
        raise InvalidLink
    try:
        claims = jwt.decode(
            token,
            _key(config),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "aud", "m"]},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidLink from exc
    message_id = claims["m"]
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise InvalidLink
    return message_id


def fingerprint(token: str) -> str:
    """A short digest to name a link in logs without writing the link itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]
