"""Lead scoring: admins publish versioned scoring rules; every contact's score is computed
when it is read, explained rule by rule; crossing the threshold moves the contact through its
lifecycle, so flows react.

Rules are data (`domain.lead_scoring_rules`), published as versions like SLA policies: the
newest version scores, earlier ones stay readable. A score is never stored: it is computed at
read from the contact's fields, custom values, tags and behaviour (with the behaviour's
timestamps, so decay is exact at any moment). What is stored is the crossing: a New contact
whose score reaches the threshold is marked Hot (MARK_HOT, by `system:lead-scoring`, with
its audit row and `contact.transitioned` event, which flows trigger on), and remembered as
made Hot by scoring; when decay takes such a contact below the threshold it goes Cold
(MARK_COLD). A contact a person moved is left to them.

When does a crossing happen? Upwards, when something changes the score: a behaviour noted
(`domain.contact_behaviour`) or reported (`record_behaviour`). Downwards, with time alone:
so each contact scoring touches has a Temporal run, the score watch
(`workflows.contact_score.ContactScoreWatch`), that evaluates at its workflow time, then
sleeps on a durable timer until the moment the score will fall below the threshold, and
evaluates again (a new behaviour wakes it early). Decay is tested with time skipping.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, StringConstraints
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from db.agencies import Agency
from db.contacts import Contact
from db.lead_scoring import ContactBehaviour, ContactScoreMark, ScoringRules
from domain import contacts
from domain.actors import Actor
from domain.audit import record_audit
from domain.contact_behaviour import note_behaviour
from domain.custom_field_values import values_of_records
from domain.errors import DomainError, validated
from domain.events import append_event
from domain.field_types import input_codes
from domain.lead_scoring_rules import (
    SCORED_FIELDS,
    Behaviour,
    ContactFacts,
    Happened,
    Score,
    ScoringRulesInput,
    falls_below_at,
    score,
)
from domain.policies import forbidden, require
from domain.roles import Access, Resource, RowScope
from domain.sales_records import scoped

AGGREGATE = "scoring_rules"
SCORER = "lead-scoring"
# A reported behaviour may be this far in the future (clocks differ) and this far in the past.
CLOCK_SKEW = timedelta(minutes=5)
OLDEST_REPORT = timedelta(days=365)


class ScoringErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"


_CODES = input_codes(ScoringErrorCode)


class BehaviourReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: UUID
    behaviour: Behaviour
    detail: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    occurred_at: datetime | None = None


def _validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    return validated(model, data, _CODES, ScoringErrorCode.INVALID)


# --- rules -----------------------------------------------------------------------------------


async def current_rules(
    agency_id: UUID, conn: BaseDBAsyncClient | None = None
) -> ScoringRules | None:
    found: ScoringRules | None = (
        await ScoringRules.filter(agency_id=agency_id).using_db(conn).order_by("-version").first()
    )
    return found


async def get_scoring_rules(actor: Actor, version: int | None = None) -> ScoringRules | None:
    """The given version, or the current one (None: none published, or no such version)."""
    require(actor, Resource.SALES_RECORDS, Access.READ)
    if version is None:
        return await current_rules(actor.agency_id)
    return await ScoringRules.get_or_none(agency_id=actor.agency_id, version=version)


async def publish_scoring_rules(actor: Actor, data: dict[str, Any]) -> ScoringRules:
    """A new version of the agency's scoring rules (admins): every score is computed by it
    from now on."""
    if require(actor, Resource.ORGANISATION, Access.WRITE) is not RowScope.AGENCY:
        raise forbidden(Resource.ORGANISATION, Access.WRITE)
    given: ScoringRulesInput = _validate(ScoringRulesInput, data)
    async with in_transaction() as conn:
        # The agency's row serialises publishers, so two never take the same version.
        await Agency.filter(id=actor.agency_id).using_db(conn).select_for_update().first()
        latest = await current_rules(actor.agency_id, conn)
        version = latest.version + 1 if latest is not None else 1
        published = await ScoringRules.create(
            agency_id=actor.agency_id,
            version=version,
            rules=[rule.model_dump(mode="json") for rule in given.rules],
            threshold=given.threshold,
            half_life_days=given.half_life_days,
            created_by=actor.id,
            using_db=conn,
        )
        after = {
            "version": version,
            "rules": published.rules,
            "threshold": given.threshold,
            "half_life_days": given.half_life_days,
        }
        record_id = str(published.id)
        await record_audit(actor, AGGREGATE, record_id, "create", {}, after, conn)
        await append_event(actor, f"{AGGREGATE}.published", AGGREGATE, record_id, after, conn)
    return published


# --- scores ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class ContactScore:
    """A contact's score with its explanation, and the rules version that computed it."""

    contact_id: UUID
    version: int
    score: Score


async def _facts(contact: Contact) -> ContactFacts:
    system = Actor.system(contact.agency_id, SCORER)
    values = await values_of_records(system, [("contact", contact.id)])
    custom: dict[str, Any] = {}
    for value in values.get(("contact", contact.id), []):
        single: list[Any] = [value.text, value.number, value.date, value.boolean]
        chosen = next((v for v in single if v is not None), None)
        custom[value.definition.key] = value.choices or chosen
    done = await ContactBehaviour.filter(contact_id=contact.id, agency_id=contact.agency_id)
    fields = {name: getattr(contact, name) for name in SCORED_FIELDS}
    return ContactFacts(
        fields=fields,
        custom=custom,
        tags=frozenset(contact.tags),
        behaviour=[Happened(b.kind, b.detail, b.occurred_at) for b in done],
    )


def _score(rules: ScoringRules, facts: ContactFacts, as_of: datetime) -> Score:
    return score(rules.rules, rules.threshold, rules.half_life_days, facts, as_of)


async def contact_score(
    actor: Actor, contact_id: UUID, as_of: datetime | None = None
) -> ContactScore | None:
    """The contact's score now (or at `as_of`, to see decay ahead), explained; None when the
    agency has no scoring rules. NOT_FOUND for a contact the actor cannot see."""
    contact = await contacts.get_contact(actor, contact_id)
    rules = await current_rules(actor.agency_id)
    if rules is None:
        return None
    facts = await _facts(contact)
    return ContactScore(contact.id, rules.version, _score(rules, facts, as_of or datetime.now(UTC)))


async def record_behaviour(actor: Actor, data: dict[str, Any]) -> ContactScore | None:
    """Record what a contact did that the CRM cannot see (a page visit, an email opened),
    reported by an integrator or a person who may change the contact; the contact's score
    is evaluated at once (it may become Hot). The new score, if the agency scores."""
    require(actor, Resource.SALES_RECORDS, Access.WRITE)
    report: BehaviourReport = _validate(BehaviourReport, data)
    now = datetime.now(UTC)
    occurred_at = report.occurred_at or now
    if occurred_at.tzinfo is None:
        occurred_at = occurred_at.replace(tzinfo=UTC)
    if not now - OLDEST_REPORT <= occurred_at <= now + CLOCK_SKEW:
        raise DomainError(
            ScoringErrorCode.OUT_OF_RANGE,
            "occurredAt is within the last year and not in the future.",
            "occurred_at",
        )
    contact = await scoped(Contact, actor, Access.WRITE).get_or_none(id=report.contact_id)
    if contact is None:
        if await scoped(Contact, actor).filter(id=report.contact_id).exists():
            raise DomainError(
                ScoringErrorCode.FORBIDDEN, "You may not change this contact.", "contact_id"
            )
        raise DomainError(ScoringErrorCode.NOT_FOUND, "No such contact.", "contact_id")
    async with in_transaction() as conn:
        await note_behaviour(
            actor.agency_id, contact.id, report.behaviour, report.detail, occurred_at, conn
        )
    await evaluate(actor.agency_id, contact.id, now)
    return await contact_score(actor, contact.id, now)


# --- crossings -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Evaluation:
    """What an evaluation found and did, and when to look again (None: no need)."""

    status: str
    total: int | None
    next_check_at: datetime | None


async def evaluate(agency_id: UUID, contact_id: UUID, as_of: datetime) -> Evaluation:
    """Score the contact at `as_of` and move it across the threshold if it crossed: New to
    Hot when it reaches it, Hot (made so by scoring) to Cold when decay takes it below.
    Idempotent: evaluating again at the same moment changes nothing."""
    contact = await Contact.get_or_none(id=contact_id, agency_id=agency_id, deleted_at__isnull=True)
    rules = await current_rules(agency_id)
    if contact is None or rules is None:
        return Evaluation(contact.status if contact else "", None, None)
    facts = await _facts(contact)
    now = _score(rules, facts, as_of)
    system = Actor.system(agency_id, SCORER)
    async with in_transaction() as conn:
        locked = (
            await Contact.filter(id=contact_id, agency_id=agency_id)
            .using_db(conn)
            .select_for_update()
            .get()
        )
        mark = await ContactScoreMark.filter(contact_id=contact_id).using_db(conn).first()
        if now.qualified and locked.status == "new":
            if mark is None:
                await ContactScoreMark.create(
                    agency_id=agency_id,
                    contact_id=contact_id,
                    marked_at=as_of,
                    version=rules.version,
                    using_db=conn,
                )
            mark = mark or ContactScoreMark(contact_id=contact_id)
            await contacts.transition_locked(system, locked, "mark_hot", conn)
        elif not now.qualified and locked.status == "hot" and mark is not None:
            await ContactScoreMark.filter(id=mark.id).using_db(conn).delete()
            mark = None
            await contacts.transition_locked(system, locked, "mark_cold", conn)
        elif mark is not None and locked.status != "hot":
            # A person moved it meanwhile: it is theirs now.
            await ContactScoreMark.filter(id=mark.id).using_db(conn).delete()
            mark = None
    watching = mark is not None and locked.status == "hot"
    next_check = (
        falls_below_at(rules.rules, rules.threshold, rules.half_life_days, facts, as_of)
        if watching
        else None
    )
    return Evaluation(locked.status, now.total, next_check)
