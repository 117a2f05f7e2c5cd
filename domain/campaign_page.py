"""What a public campaign's page and widget show and do for anyone on the web: the campaign, a
like (once per browser) and a sign-up that becomes a contact of the agency.

Only a public, active campaign is found (`domain.campaigns.get_public_campaign`); an unknown
code, a private or internal campaign, or one not active gives the same `CampaignNotFound`
after the same lookup (one SQL query fewer for an unknown agency), so the answer says nothing
about which it was.

A sign-up finds the agency's contact by email, else by phone, or makes one as the API does
(`domain.contacts.create_contact`: its `contact.created` event starts the contact flows),
owned by the campaign's owner (no one, if the owner has left). Like inbound mail's new
senders, it holds the agency's row lock while it looks and creates, so one person signing up
twice at once is one contact. The contact is attributed to the campaign (and to the referrer
whose code it gave) once: the first sign-up of a person enrols them and counts one enrolment,
in the same transaction; a second one only records the consent it gave. The consent box is
recorded as a consent change (source `campaign`): ticked, marketing messages are received (the
proof kept even when they already were); left empty by a new contact, marketing is off.

The form carries a signed token (`domain.signed_links`, purpose `campaign_form`) naming the
campaign and the second it was served: a form sent back sooner than the minimum fill time,
or with a token that is not good, is not taken.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.campaign_likes import CampaignLike
from db.campaigns import CampaignAttribution
from db.contacts import Contact
from db.event_signals import is_postgres
from domain import contacts
from domain.actors import Actor
from domain.campaign_counters import CounterKind, count
from domain.campaigns import CampaignType, get_public_campaign
from domain.contact_behaviour import note_behaviour
from domain.errors import DomainError, DomainErrors, input_errors
from domain.field_types import OptionalEmail, OptionalPhone, input_codes
from domain.lead_scoring_rules import Behaviour
from domain.message_kinds import TemplateKind
from domain.message_preferences import ConsentSource, preference_row, save_preferences
from domain.rate_limits import RateLimit
from domain.referral_codes import (
    MAX_CODE_LENGTH,
    Referrer,
    ReferrerType,
    normalised_code,
    referrer_of,
)
from domain.signed_links import InvalidLink, LinkConfig, LinkPurpose, sign, subject_of
from domain.users import assignable_owner

SOURCE = "campaign"
# What the consent box agrees to: the agency's news, offers and campaigns.
CONSENTED_KIND = TemplateKind.MARKETING


@dataclass(frozen=True)
class PublicLimits:
    """What one client address and one campaign may ask of the public endpoints, and the least
    time a person takes to fill in the form."""

    views_per_address: RateLimit
    posts_per_address: RateLimit  # likes and sign-ups
    sign_ups_per_campaign: RateLimit
    min_fill: timedelta


class CampaignNotFound(Exception):
    """No public, active campaign of that agency has that code (or the agency is unknown)."""


class SignUpErrorCode(StrEnum):
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    UNKNOWN_REFERRAL_CODE = "UNKNOWN_REFERRAL_CODE"


_CODES = input_codes(SignUpErrorCode)


@dataclass(frozen=True)
class CampaignView:
    """The campaign as the public sees it (and the ids the page's actions need)."""

    campaign_id: UUID
    agency_id: UUID
    owner_id: UUID
    agency_name: str
    agency_slug: str
    code: str
    title: str
    description: str
    referral: bool
    # The origins whose pages may frame the widget (the owner's list).
    embed_origins: tuple[str, ...]


async def find_campaign(agency_slug: str, code: str) -> CampaignView:
    """The public, active campaign; `CampaignNotFound` for anything else."""
    campaign = await get_public_campaign(agency_slug, code)
    if campaign is None:
        raise CampaignNotFound
    agency = await Agency.get(id=campaign.agency_id)
    return CampaignView(
        campaign_id=campaign.id,
        agency_id=campaign.agency_id,
        owner_id=campaign.owner_id,
        agency_name=agency.name,
        agency_slug=agency.slug,
        code=campaign.code,
        title=campaign.title,
        description=campaign.description,
        referral=campaign.campaign_type == CampaignType.REFERRAL,
        embed_origins=tuple(campaign.embed_origins),
    )


async def record_view(view: CampaignView, now: datetime | None = None) -> None:
    """The page or the widget was shown once."""
    await count(view.campaign_id, CounterKind.VIEW, now or datetime.now(UTC))


def browser_key(browser_id: str) -> str:
    """What is stored of a browser's like cookie: a digest, never the cookie itself."""
    return hashlib.sha256(browser_id.encode()).hexdigest()


_LIKE_FIELDS = CampaignLike._meta.fields_map


async def like(view: CampaignView, browser_id: str, now: datetime | None = None) -> bool:
    """Count the browser's like, once: False when it liked the campaign before."""
    at = now or datetime.now(UTC)
    async with in_transaction() as conn:
        values = [
            _LIKE_FIELDS["campaign_id"].to_db_value(view.campaign_id, CampaignLike),
            browser_key(browser_id),
            _LIKE_FIELDS["liked_at"].to_db_value(at, CampaignLike),
        ]
        marks = "$1, $2, $3" if is_postgres(conn) else "?, ?, ?"
        # One statement decides, so two clicks at once count one like.
        rows = await conn.execute_query_dict(
            f"INSERT INTO campaign_like (campaign_id, browser, liked_at) VALUES ({marks}) "
            "ON CONFLICT (campaign_id, browser) DO NOTHING RETURNING id",
            values,
        )
        if not rows:
            return False
        await count(view.campaign_id, CounterKind.LIKE, at, connection=conn)
    return True


# ---- the sign-up form ----


def form_token(links: LinkConfig, view: CampaignView, now: datetime | None = None) -> str:
    """The token the served form carries: the campaign and the second it was served."""
    served = now or datetime.now(UTC)
    return sign(
        links, LinkPurpose.CAMPAIGN_FORM, f"{view.campaign_id} {int(served.timestamp())}", served
    )


class FormCheck(StrEnum):
    GOOD = "good"
    TOO_FAST = "too_fast"  # sent back sooner than a person fills it in
    STALE = "stale"  # forged, altered, expired or for another campaign: serve a new one


def check_form_token(
    links: LinkConfig,
    view: CampaignView,
    token: str,
    min_fill: timedelta,
    now: datetime | None = None,
) -> FormCheck:
    try:
        subject = str(subject_of(links, LinkPurpose.CAMPAIGN_FORM, token))
        campaign, _, served = subject.partition(" ")
        served_at = datetime.fromtimestamp(int(served), UTC)
    except (InvalidLink, ValueError, OverflowError, OSError):
        return FormCheck.STALE
    if campaign != str(view.campaign_id):
        return FormCheck.STALE
    if (now or datetime.now(UTC)) - served_at < min_fill:
        return FormCheck.TOO_FAST
    return FormCheck.GOOD


class SignUp(BaseModel):
    """What the form sends (the token and the honeypot are checked before)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: OptionalEmail = ""
    phone: OptionalPhone = ""
    consent: bool = False
    referral_code: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=MAX_CODE_LENGTH)
    ] = ""

    @model_validator(mode="after")
    def _reachable(self) -> SignUp:
        if not self.email and not self.phone:
            raise ValueError("an email address or a phone number is needed")
        return self


def parse_sign_up(data: dict[str, Any]) -> SignUp:
    """The form's fields validated and bounded; `DomainErrors` naming each bad field."""
    try:
        return SignUp.model_validate(data)
    except ValidationError as exc:
        errors = input_errors(exc, _CODES, SignUpErrorCode.INVALID).errors
        raise DomainErrors(
            [
                DomainError(SignUpErrorCode.REQUIRED, "Give an email address or a phone.", "email")
                if e.field is None
                else e
                for e in errors
            ]
        ) from exc


@dataclass(frozen=True)
class SignUpResult:
    contact_id: UUID
    created: bool  # a new contact (False: an existing one was found)
    enrolled: bool  # first sign-up of this person to the campaign (an enrolment counted)


def _names(name: str) -> tuple[str, str]:
    first, _, last = " ".join(name.split()).partition(" ")
    return first[:100], last[:100]


async def _existing(agency_id: UUID, form: SignUp) -> Contact | None:
    found = await contacts.contact_with_address(agency_id, form.email) if form.email else None
    if found is None and form.phone:
        found = await contacts.contact_with_phone(agency_id, form.phone)
    return found


async def _record_consent(
    actor: Actor, contact_id: UUID, consent: bool, created: bool, conn: BaseDBAsyncClient
) -> None:
    row = await preference_row(actor.agency_id, "contact", str(contact_id), conn)
    opted_out = set(row.opted_out_kinds) if row else set()
    if consent:
        await save_preferences(
            actor,
            "contact",
            str(contact_id),
            {"opted_out_kinds": sorted(opted_out - {CONSENTED_KIND})},
            ConsentSource.CAMPAIGN,
            conn,
            affirmed=[CONSENTED_KIND],
        )
    elif created:
        await save_preferences(
            actor,
            "contact",
            str(contact_id),
            {"opted_out_kinds": sorted(opted_out | {CONSENTED_KIND})},
            ConsentSource.CAMPAIGN,
            conn,
        )


async def sign_up(view: CampaignView, form: SignUp, now: datetime | None = None) -> SignUpResult:
    """The person signs up: found or made a contact, attributed, consent recorded, enrolment
    counted (see the module's docstring)."""
    at = now or datetime.now(UTC)
    referrer: Referrer | None = None
    if form.referral_code:
        referrer = await referrer_of(view.agency_id, form.referral_code)
        if referrer is None:
            raise DomainError(
                SignUpErrorCode.UNKNOWN_REFERRAL_CODE,
                f"No one has the referral code {normalised_code(form.referral_code)}.",
                "referral_code",
            )
    actor = Actor.system(view.agency_id, f"campaign:{view.campaign_id}")
    async with in_transaction() as conn:
        await Agency.filter(id=view.agency_id).select_for_update().using_db(conn).get()
        contact = await _existing(view.agency_id, form)
        created = contact is None
        if contact is None:
            first_name, last_name = _names(form.name)
            # An owner who has left gets no new contacts: unowned, the agency-wide roles see
            # them (a sign-up must not fail for it).
            owner_id = view.owner_id if await assignable_owner(actor, view.owner_id) else None
            contact = await contacts.create_contact(
                actor,
                {
                    "first_name": first_name,
                    "last_name": last_name,
                    "emails": [form.email] if form.email else [],
                    "phones": [form.phone] if form.phone else [],
                    "source": SOURCE,
                    "owner_id": owner_id,
                },
            )
        if referrer is not None and (referrer.type, referrer.id) == (
            ReferrerType.CONTACT,
            contact.id,
        ):
            referrer = None  # nobody refers themselves
        enrolled = (
            not await CampaignAttribution.filter(
                campaign_id=view.campaign_id, contact_id=contact.id
            )
            .using_db(conn)
            .exists()
        )
        if enrolled:
            await CampaignAttribution.create(
                agency_id=view.agency_id,
                campaign_id=view.campaign_id,
                contact_id=contact.id,
                referrer_user_id=referrer.id if referrer and referrer.type == "user" else None,
                referrer_contact_id=(
                    referrer.id if referrer and referrer.type == "contact" else None
                ),
                using_db=conn,
            )
            await count(view.campaign_id, CounterKind.ENROLMENT, at, connection=conn)
            await note_behaviour(
                view.agency_id,
                contact.id,
                Behaviour.CAMPAIGN_SIGN_UP,
                str(view.campaign_id),
                at,
                conn,
            )
        await _record_consent(actor, contact.id, form.consent, created, conn)
    return SignUpResult(contact.id, created, enrolled)
