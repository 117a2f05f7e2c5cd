"""Where people outside the API land from an email or another site (the unsubscribe page, the
booking page, the password reset page, the agency's logo, a public campaign's page and widget):
one place, so the API's routes and the links in messages and snippets cannot disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode
from uuid import UUID

if TYPE_CHECKING:
    from domain.signed_links import LinkPurpose

UNSUBSCRIBE_PATH = "/unsubscribe/{token}"
BOOKING_PATH = "/book/{token}"
PASSWORD_RESET_PATH = "/reset-password/{token}"
SURVEY_PATH = "/survey/{token}"
# The customer portal: an agency's sign-in page, the emailed link, and the signed-in pages.
PORTAL_SIGN_IN_PATH = "/portal/{agency}/sign-in"
PORTAL_LINK_PATH = "/portal/link/{token}"
PORTAL_TICKETS_PATH = "/portal/tickets"
# The route of one ticket's page: its id is a UUID (so no agency's sign-in page is shadowed).
PORTAL_TICKET_ROUTE = "/portal/tickets/{id:uuid}"
PORTAL_SIGN_OUT_PATH = "/portal/sign-out"
LOGO_PATH = "/logos/{id}"
# A public campaign, named by its agency's slug and its code: the page, the document its
# widget frames, and what their forms post to. The widget's script is one file for everyone.
CAMPAIGN_PATH = "/c/{agency}/{code}"
CAMPAIGN_WIDGET_PATH = CAMPAIGN_PATH + "/widget"
CAMPAIGN_LIKE_PATH = CAMPAIGN_PATH + "/like"
CAMPAIGN_SIGN_UP_PATH = CAMPAIGN_PATH + "/sign-up"
WIDGET_SCRIPT_PATH = "/widget.js"
# Pages whose path ends in a signed link's token (a credential: logged as a fingerprint).
SIGNED_PATHS = (
    UNSUBSCRIBE_PATH,
    BOOKING_PATH,
    PASSWORD_RESET_PATH,
    SURVEY_PATH,
    PORTAL_LINK_PATH,
)
_PATHS = {
    "booking": BOOKING_PATH,
    "password_reset": PASSWORD_RESET_PATH,
    "survey": SURVEY_PATH,
    "portal_sign_in": PORTAL_LINK_PATH,
}


def page_path(purpose: LinkPurpose, token: str) -> str:
    return _PATHS.get(str(purpose), UNSUBSCRIBE_PATH).format(token=token)


def unsubscribe_path(token: str) -> str:
    return UNSUBSCRIBE_PATH.format(token=token)


def logo_path(document_id: UUID) -> str:
    return LOGO_PATH.format(id=document_id)


def campaign_path(
    agency_slug: str, code: str, path: str = CAMPAIGN_PATH, referral_code: str = ""
) -> str:
    """A public campaign's page (or its widget, like or sign-up `path`); with a referral code,
    the link a referrer shares."""
    found = path.format(agency=quote(agency_slug, safe=""), code=quote(code, safe=""))
    return found + (f"?{urlencode({'ref': referral_code})}" if referral_code else "")
