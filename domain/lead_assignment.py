"""Who owns a new contact or lead that nobody was given: the agency's assignment rules.

Admins keep an ordered list of rules as data; the first rule a record matches names its
owner. A rule matches on territory (country, region, postcode prefix), source, value (at
least an amount) and industry, each empty one matching anything, and names either a person
or a team: a team deals its records out round-robin among its active sales people
(`domain.round_robin`, the same turn-taking the ticket queues use, fair when records arrive at
once). A rule whose person is inactive, or whose team has no active sales person, is passed
over; when none matches, the fallback owner (if active) gets the record, else it stays
unowned. Records get an owner this way when they are created without one: by an API key, by
inbound mail, by a campaign sign-up, or by an admin leaving the owner out.

When a record changes owner, both people are told (`tell_reassigned`); the change itself is
audited with the record's update. Sales heads see how records are spread over their people
(`distribution`).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic import model_validator as model_check
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.functions import Count
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.agencies import OrgUnit
from db.contacts import Contact
from db.customers import Customer
from db.lead_assignment import LeadAssignmentRules
from db.leads import Lead
from db.users import User
from domain.actors import Actor
from domain.audit import record_audit
from domain.errors import DomainError, input_errors
from domain.events import append_event
from domain.field_types import input_codes
from domain.notification_kinds import NotificationKind
from domain.notifications import notify_user
from domain.policies import forbidden, require, rows
from domain.roles import Access, Resource, Role, RowScope
from domain.round_robin import Queue, next_in_turn

MAX_RULES = 50
AGGREGATE = "lead_assignment"
# Who a team deals new contacts and leads out to.
SELLERS = frozenset({Role.SALES_PERSON})


class LeadAssignmentErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"


_CODES = input_codes(LeadAssignmentErrorCode)
Lower = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=100)]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^([A-Za-z]{2})?$")
    ] = ""
    region: Lower = ""
    postcode_prefix: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=20)
    ] = ""
    source: Lower = ""
    industry: Lower = ""
    min_value: Decimal | None = Field(default=None, ge=0, le=Decimal("1e12"))
    team_id: UUID | None = None
    user_id: UUID | None = None

    @model_check(mode="after")
    def _one_target(self) -> Rule:
        if (self.team_id is None) == (self.user_id is None):
            raise ValueError("Name a team or a person, not both.")
        return self


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(max_length=MAX_RULES)
    fallback_owner_id: UUID | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Facts:
    """What the rules look at in a new record."""

    country: str = ""
    region: str = ""
    postal_code: str = ""
    source: str = ""
    industry: str = ""
    value: Decimal | None = None


def matches(rule: dict[str, Any], facts: Facts) -> bool:
    """Every non-empty criterion of the rule holds for the record."""
    postcode = facts.postal_code.replace(" ", "").upper()
    checks = (
        not rule["country"] or rule["country"] == facts.country.upper(),
        not rule["region"] or rule["region"] == facts.region.strip().lower(),
        not rule["postcode_prefix"]
        or postcode.startswith(rule["postcode_prefix"].replace(" ", "")),
        not rule["source"] or rule["source"] == facts.source.strip().lower(),
        not rule["industry"] or rule["industry"] == facts.industry.strip().lower(),
        rule["min_value"] is None
        or (facts.value is not None and facts.value >= Decimal(rule["min_value"])),
    )
    return all(checks)


async def rules_of(actor: Actor) -> LeadAssignmentRules:
    """The agency's rules (an empty set before an admin saves any)."""
    require(actor, Resource.SALES_RECORDS, Access.READ)
    found = await LeadAssignmentRules.get_or_none(agency_id=actor.agency_id)
    return found or LeadAssignmentRules(agency_id=actor.agency_id, rules=[])


def _snapshot(row: LeadAssignmentRules) -> dict[str, Any]:
    return {
        "rules": list(row.rules),
        "fallback_owner_id": str(row.fallback_owner_id) if row.fallback_owner_id else None,
    }


async def set_rules(actor: Actor, data: dict[str, Any]) -> LeadAssignmentRules:
    """Replace the agency's rules and fallback owner whole (admins)."""
    if require(actor, Resource.ORGANISATION, Access.WRITE) is not RowScope.AGENCY:
        raise forbidden(Resource.ORGANISATION, Access.WRITE)
    try:
        given = Rules.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, _CODES, LeadAssignmentErrorCode.INVALID) from exc
    teams = {rule.team_id for rule in given.rules if rule.team_id}
    people = {rule.user_id for rule in given.rules if rule.user_id}
    known_teams = set(
        await OrgUnit.filter(agency_id=actor.agency_id, id__in=teams).values_list("id", flat=True)
    )
    wanted_people = people | ({given.fallback_owner_id} if given.fallback_owner_id else set())
    known_people = set(
        await User.filter(agency_id=actor.agency_id, id__in=wanted_people).values_list(
            "id", flat=True
        )
    )
    for position, rule in enumerate(given.rules):
        if rule.team_id and rule.team_id not in known_teams:
            raise DomainError(
                LeadAssignmentErrorCode.NOT_FOUND, "No such org unit.", f"rules.{position}.team_id"
            )
        if rule.user_id and rule.user_id not in known_people:
            raise DomainError(
                LeadAssignmentErrorCode.NOT_FOUND, "No such user.", f"rules.{position}.user_id"
            )
    if given.fallback_owner_id and given.fallback_owner_id not in known_people:
        raise DomainError(LeadAssignmentErrorCode.NOT_FOUND, "No such user.", "fallback_owner_id")
    async with in_transaction() as conn:
        row = (
            await LeadAssignmentRules.filter(agency_id=actor.agency_id)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        before = _snapshot(row) if row is not None else {}
        row = row or LeadAssignmentRules(agency_id=actor.agency_id)
        row.rules = [rule.model_dump(mode="json") for rule in given.rules]
        row.fallback_owner_id = given.fallback_owner_id
        await row.save(using_db=conn)
        after = _snapshot(row)
        agency = str(actor.agency_id)
        await record_audit(actor, AGGREGATE, agency, "update", before, after, conn)
        await append_event(actor, f"{AGGREGATE}.updated", AGGREGATE, agency, after, conn)
    return row


async def _active(agency_id: UUID, user_id: UUID | None, conn: BaseDBAsyncClient) -> bool:
    if user_id is None:
        return False
    found: bool = (
        await User.filter(id=user_id, agency_id=agency_id, is_active=True).using_db(conn).exists()
    )
    return found


async def owner_by_rules(agency_id: UUID, facts: Facts, conn: BaseDBAsyncClient) -> UUID | None:
    """The owner the agency's rules give a new record (None: no rules, or nobody fits).

    Call it in the transaction that writes the record: a team's turn is taken under its row
    lock, so it is never given twice."""
    row = await LeadAssignmentRules.filter(agency_id=agency_id).using_db(conn).first()
    if row is None:
        return None
    for rule in row.rules:
        if not matches(rule, facts):
            continue
        if rule["user_id"]:
            person = UUID(rule["user_id"])
            if await _active(agency_id, person, conn):
                return person
            continue
        chosen = await next_in_turn(agency_id, UUID(rule["team_id"]), SELLERS, Queue.LEADS, conn)
        if chosen is not None:
            return chosen
    if await _active(agency_id, row.fallback_owner_id, conn):
        return row.fallback_owner_id
    return None


def contact_facts(fields: dict[str, Any]) -> Facts:
    """A new contact's facts from its validated fields (address flattened or not)."""
    address = fields.get("address") or fields
    return Facts(
        country=address.get("country") or "",
        region=address.get("region") or "",
        postal_code=address.get("postal_code") or "",
        source=fields.get("source") or "",
    )


async def lead_facts(agency_id: UUID, fields: dict[str, Any], conn: BaseDBAsyncClient) -> Facts:
    """A new lead's facts: its source and value, its contact's territory, its customer's
    industry."""
    contact = customer = None
    if fields.get("contact_id"):
        contact = (
            await Contact.filter(id=fields["contact_id"], agency_id=agency_id)
            .using_db(conn)
            .first()
        )
    if fields.get("customer_id"):
        customer = (
            await Customer.filter(id=fields["customer_id"], agency_id=agency_id)
            .using_db(conn)
            .first()
        )
    return Facts(
        country=contact.country if contact else "",
        region=contact.region if contact else "",
        postal_code=contact.postal_code if contact else "",
        source=fields.get("source") or "",
        industry=customer.industry if customer else "",
        value=fields.get("estimated_value"),
    )


async def tell_reassigned(
    actor: Actor,
    record_type: str,
    record_id: UUID,
    label: str,
    before: UUID | None,
    after: UUID | None,
    conn: BaseDBAsyncClient,
) -> None:
    """A record changed hands: the one who had it and the one who has it now hear of it
    (except whoever made the change)."""
    if before == after:
        return
    told = (
        (before, f"{label} was given to someone else."),
        (after, f"{label} is yours now."),
    )
    for user_id, message in told:
        if user_id is not None and user_id != actor.user_id:
            await notify_user(
                actor,
                user_id,
                message,
                record_type,
                str(record_id),
                actor.id,
                conn,
                NotificationKind.RECORD_REASSIGNED,
            )


@dataclasses.dataclass(frozen=True, slots=True)
class Share:
    """How many live contacts and open leads one person owns."""

    user_id: UUID
    name: str
    contacts: int
    leads: int


async def distribution(actor: Actor) -> list[Share]:
    """Per person the actor oversees (a sales head their team, admins everyone), the live
    contacts and open leads they own, the busiest first. Sales people, who see only their
    own records, are FORBIDDEN."""
    granted = require(actor, Resource.SALES_RECORDS, Access.READ)
    if granted is RowScope.OWN:
        raise DomainError(
            LeadAssignmentErrorCode.FORBIDDEN, "Only those who oversee others see the spread."
        )
    scope = rows(actor, Resource.SALES_RECORDS, Access.READ)
    counted: dict[UUID, list[int]] = {}
    contacts = Contact.filter(scope, deleted_at__isnull=True, owner_id__isnull=False)
    leads = Lead.filter(
        scope, deleted_at__isnull=True, owner_id__isnull=False, status__in=("new", "qualified")
    )
    queries: tuple[QuerySet[Any], ...] = (contacts, leads)
    for index, query in enumerate(queries):
        grouped = await query.annotate(n=Count("id")).group_by("owner_id").values("owner_id", "n")
        for row in grouped:
            counted.setdefault(UUID(str(row["owner_id"])), [0, 0])[index] = row["n"]
    people = User.filter(agency_id=actor.agency_id)
    if granted is RowScope.TEAM:
        people = people.filter(id__in=list(actor.team))
    found = await people.filter(id__in=list(counted)) if counted else []
    sellers = await people.filter(is_active=True)
    named = {user.id: user for user in [*found, *sellers] if _sells(user) or user.id in counted}
    shares = [Share(user.id, user.name, *counted.get(user.id, [0, 0])) for user in named.values()]
    return sorted(shares, key=lambda s: (-(s.contacts + s.leads), s.name))


def _sells(user: User) -> bool:
    return Role.SALES_PERSON.value in user.roles or Role.SALES_HEAD.value in user.roles
