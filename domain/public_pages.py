"""Where people outside the API land from an email (the unsubscribe page, the agency's logo):
one place, so the API's routes and the links in messages cannot disagree."""

from __future__ import annotations

from uuid import UUID

UNSUBSCRIBE_PATH = "/unsubscribe/{token}"
LOGO_PATH = "/logos/{id}"


def unsubscribe_path(token: str) -> str:
    return UNSUBSCRIBE_PATH.format(token=token)


def logo_path(document_id: UUID) -> str:
    return LOGO_PATH.format(id=document_id)
