"""Referral codes: each referrer (a user of the agency or one of its contacts) has one short
code, made the first time someone asks for their referral link, and shared in that link (`ref`)
or typed into a campaign's sign-up form.

A stored random code rather than a signed one: a person types it, so it must be short, and a
code found by a lookup can be neither forged nor guessed faster than the sign-up rate limits
allow (31^8, about 850 billion codes per agency).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from tortoise.exceptions import IntegrityError

from db.agencies import Agency
from db.referral_codes import ReferralCode
from domain.actors import Actor
from domain.campaigns import CampaignType, get_public_campaign
from domain.public_pages import campaign_path
from domain.roles import Role

# No 0/O, 1/I/L: a code read aloud or copied by hand still works.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 8
# Who may read a colleague's referral link (a user always reads their own).
_READS_COLLEAGUES = frozenset({Role.ADMIN, Role.MARKETING})
MAX_CODE_LENGTH = 16
_ATTEMPTS = 5


class ReferrerType(StrEnum):
    USER = "user"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Referrer:
    type: ReferrerType
    id: UUID


def normalised_code(code: str) -> str:
    return "".join(code.split()).upper()


async def referral_code(agency_id: UUID, referrer: Referrer) -> str:
    """The referrer's code, made now if they have none (two concurrent first requests agree on
    one: the second finds the first's)."""
    for _ in range(_ATTEMPTS):
        found = await ReferralCode.get_or_none(
            agency_id=agency_id, referrer_type=referrer.type, referrer_id=referrer.id
        )
        if found is not None:
            return found.code
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        try:
            await ReferralCode.create(
                agency_id=agency_id, code=code, referrer_type=referrer.type, referrer_id=referrer.id
            )
        except IntegrityError:  # the referrer's code made meanwhile, or (rarely) a code taken
            continue
        return code
    raise RuntimeError("no referral code could be made")


async def referrer_of(agency_id: UUID, code: str) -> Referrer | None:
    """Who holds the code in the agency, or None."""
    code = normalised_code(code)
    if not code or len(code) > MAX_CODE_LENGTH:
        return None
    found = await ReferralCode.get_or_none(agency_id=agency_id, code=code)
    if found is None:
        return None
    return Referrer(ReferrerType(found.referrer_type), found.referrer_id)


def may_read_link(actor: Actor, referrer: Referrer) -> bool:
    """A contact's link: whoever sees the contact. A user's: that user, admins, marketing."""
    if referrer.type is ReferrerType.CONTACT:
        return True
    return actor.user_id == referrer.id or bool(actor.roles & _READS_COLLEAGUES)


async def referral_link(
    actor: Actor, public_url: str, referrer: Referrer, campaign_code: str
) -> str | None:
    """The address the referrer shares to bring people to the agency's public, active referral
    campaign `campaign_code` (its page, with their code); None for any other campaign or code,
    and for a colleague's link the actor may not read. The caller has checked that the actor
    sees the referrer."""
    if not may_read_link(actor, referrer) or len(campaign_code) > 40:
        return None
    agency = await Agency.get(id=actor.agency_id)
    campaign = await get_public_campaign(agency.slug, campaign_code)
    if campaign is None or campaign.campaign_type != CampaignType.REFERRAL:
        return None
    code = await referral_code(actor.agency_id, referrer)
    path = campaign_path(agency.slug, campaign.code, referral_code=code)
    return public_url.rstrip("/") + path
