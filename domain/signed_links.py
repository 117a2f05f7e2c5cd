"""Signed links for people outside the API: who holds one may do one thing (change the consent
of a message's recipient, book one of a meeting's time slots).

A link names only its subject (a message id, a meeting id), its purpose and an expiry, signed
with a key derived from the application secret for that purpose alone: an access token can
never pass for a link, nor a link of one purpose for another (the purpose is both the key's
derivation and the `aud` claim). Everything else is read from the subject's row, so the link
carries nothing worth reading, and a forged, altered or expired one is refused without saying
which of the three it was. Each page has its purpose here and its path in
`domain.public_pages`; `domain.unsubscribe_links` and `domain.password_resets` name theirs.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import jwt
from pydantic import SecretStr

from domain.public_pages import logo_path, page_path

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 512
# The claim naming the link's subject; "m" since the first links (a message's), kept so links
# already sent keep working.
SUBJECT_CLAIM = "m"


class LinkPurpose(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    BOOKING = "booking"
    PASSWORD_RESET = "password_reset"
    # A campaign's sign-up form, naming the campaign and when the form was served (the
    # minimum fill time is measured from it): not a link, but signed the same way.
    CAMPAIGN_FORM = "campaign_form"
    SURVEY = "survey"
    # The customer portal: the emailed one-time sign-in link, and the session it opens (a
    # bearer token for the API and the portal page's cookie, naming the sign-in's row).
    PORTAL_SIGN_IN = "portal_sign_in"
    PORTAL_SESSION = "portal_session"


@dataclass(frozen=True)
class LinkConfig:
    """Where the CRM is reached from outside (its web address, and the mail domain under which
    each agency gets its inbound addresses: empty turns inbound mail off), and how links are
    signed and for how long."""

    public_url: str
    secret_key: SecretStr
    lifetime: timedelta = timedelta(days=365)  # unsubscribe links
    booking_lifetime: timedelta = timedelta(days=60)
    inbound_domain: str = ""
    # Password reset links are short-lived (and their row is spent on first use).
    reset_lifetime: timedelta = timedelta(minutes=30)
    form_lifetime: timedelta = timedelta(hours=12)  # a campaign sign-up form, once served
    portal_link_lifetime: timedelta = timedelta(minutes=15)
    portal_session_lifetime: timedelta = timedelta(hours=8)

    def lifetime_of(self, purpose: LinkPurpose) -> timedelta:
        if purpose is LinkPurpose.PORTAL_SIGN_IN:
            return self.portal_link_lifetime
        if purpose is LinkPurpose.PORTAL_SESSION:
            return self.portal_session_lifetime
        if purpose is LinkPurpose.PASSWORD_RESET:
            return self.reset_lifetime
        if purpose is LinkPurpose.CAMPAIGN_FORM:
            return self.form_lifetime
        return self.booking_lifetime if purpose is LinkPurpose.BOOKING else self.lifetime

    def page_url(self, token: str, purpose: LinkPurpose = LinkPurpose.UNSUBSCRIBE) -> str:
        return self.public_url.rstrip("/") + page_path(purpose, token)

    def logo_url(self, document_id: UUID) -> str:
        return self.public_url.rstrip("/") + logo_path(document_id)


class InvalidLink(Exception):
    """Not a link this CRM signed for that purpose, altered, or expired."""


def _key(config: LinkConfig, purpose: LinkPurpose) -> bytes:
    derivation = f"crm {purpose} links v1".encode()
    return hmac.new(config.secret_key.get_secret_value().encode(), derivation, "sha256").digest()


def sign(
    config: LinkConfig, purpose: LinkPurpose, subject: int | str, now: datetime | None = None
) -> str:
    """A link token naming `subject` for `purpose`, valid for the purpose's lifetime."""
    issued = now or datetime.now(UTC)
    claims = {
        SUBJECT_CLAIM: subject,
        "aud": str(purpose),
        "exp": issued + config.lifetime_of(purpose),
    }
    return jwt.encode(claims, _key(config, purpose), algorithm=ALGORITHM)


def subject_of(config: LinkConfig, purpose: LinkPurpose, token: str) -> int | str:
    """The subject a valid link of `purpose` names; `InvalidLink` for anything else."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidLink
    try:
        claims = jwt.decode(
            token,
            _key(config, purpose),
            algorithms=[ALGORITHM],
            audience=str(purpose),
            options={"require": ["exp", "aud", SUBJECT_CLAIM]},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidLink from exc
    subject = claims[SUBJECT_CLAIM]
    if isinstance(subject, bool) or not isinstance(subject, int | str):
        raise InvalidLink
    return subject


def fingerprint(token: str) -> str:
    """A short digest to name a link in logs without writing the link itself."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]
