"""Where people outside the API land from an email (the unsubscribe page, the booking page, the
agency's logo): one place, so the API's routes and the links in messages cannot disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from domain.signed_links import LinkPurpose

UNSUBSCRIBE_PATH = "/unsubscribe/{token}"
BOOKING_PATH = "/book/{token}"
SURVEY_PATH = "/survey/{token}"
LOGO_PATH = "/logos/{id}"
# Pages whose path ends in a signed link's token (a credential: logged as a fingerprint).
SIGNED_PATHS = (UNSUBSCRIBE_PATH, BOOKING_PATH, SURVEY_PATH)


def page_path(purpose: LinkPurpose, token: str) -> str:
    paths = {"booking": BOOKING_PATH, "survey": SURVEY_PATH}
    path = paths.get(str(purpose), UNSUBSCRIBE_PATH)
    return path.format(token=token)


def unsubscribe_path(token: str) -> str:
    return UNSUBSCRIBE_PATH.format(token=token)


def logo_path(document_id: UUID) -> str:
    return LOGO_PATH.format(id=document_id)
