"""What the satisfaction survey page shows and does for the holder of a signed survey link.

The link names one ticket's resolution (`domain.signed_links`, purpose `survey`); the page
asks its contact for a score from 1 to 5 and a comment, stored once on the ticket. A link
that is not valid (forged, altered, expired, of an older resolution, or used already) gives
the same `InvalidLink`, so the answer reveals nothing about which it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.agencies import Agency
from domain.signed_links import InvalidLink, LinkConfig, LinkPurpose, subject_of
from domain.tickets import RatingOutcome, rate_ticket, surveyed_ticket


@dataclass(frozen=True)
class SurveyView:
    agency_name: str
    subject: str


def _subject(links: LinkConfig, token: str) -> str:
    return str(subject_of(links, LinkPurpose.SURVEY, token))


async def page(links: LinkConfig, token: str) -> SurveyView:
    """The question; `InvalidLink` for any link that may not be used."""
    ticket = await surveyed_ticket(_subject(links, token))
    if ticket is None:
        raise InvalidLink
    agency = await Agency.get(id=ticket.agency_id)
    return SurveyView(agency_name=agency.name, subject=ticket.subject)


async def answer(links: LinkConfig, token: str, score: str, comment: str) -> bool:
    """Store the answer: True once stored, False for a score that is not 1 to 5 (ask again);
    `InvalidLink` for a link that may not be used (used already, among others)."""
    subject = _subject(links, token)
    try:
        value = int(score)
    except ValueError:
        value = 0
    outcome = await rate_ticket(subject, value, comment)
    if outcome is None:
        raise InvalidLink
    return outcome is RatingOutcome.RATED
