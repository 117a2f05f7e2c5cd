"""Agencies, their profile, and their organisation: units (a tree), departments and
designations.

An agency is created by `crm bootstrap` (with its first admin), never through the API:
agencies do not create each other. Its profile (what kind of organisation, postal address,
web site, time zone and locale) is the sender of its messages: every person of the agency
reads it, admins change it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.agencies import Agency as Agency
from db.agencies import Department as Department
from db.agencies import Designation as Designation
from db.agencies import OrgUnit as OrgUnit
from db.users import User
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.errors import DomainError, input_errors
from domain.events import append_event
from domain.field_types import (
    Address,
    Locale,
    RequiredName,
    TimeZone,
    WebAddress,
    address_snapshot,
    input_codes,
)
from domain.images import attached_image
from domain.passwords import hash_password
from domain.policies import forbidden, require, rows
from domain.record_changes import record_created, record_deleted, record_updated
from domain.roles import Access, Resource, Role, RowScope
from domain.users import validate_new_user

MAX_NAME = 200
LEAD_ROLE_PREFIX = "role:"


class OrganisationErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    NAME_TAKEN = "NAME_TAKEN"
    FORBIDDEN = "FORBIDDEN"
    INVALID = "INVALID"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    INVALID_LOCALE = "INVALID_LOCALE"
    INVALID_URL = "INVALID_URL"
    IN_USE = "IN_USE"


class AgencyKind(StrEnum):
    """What the agency does: sells, supports its customers, or both."""

    SALES = "sales"
    SUPPORT = "support"
    SALES_AND_SUPPORT = "sales_and_support"


class AgencyProfile(BaseModel):
    """The profile fields an admin may change; on update only the fields given are changed."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredName
    kind: AgencyKind = AgencyKind.SALES_AND_SUPPORT
    address: Address = Address()
    website: WebAddress = ""
    time_zone: TimeZone = "UTC"
    locale: Locale = "en"
    logo_id: UUID | None = None  # an image document uploaded to the agency; None removes it
    # Who owns leads made from mail: role:<role> or a user's id (checked in `_check_assignee`).
    lead_assignee: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] = (
        LEAD_ROLE_PREFIX + Role.SALES_PERSON
    )
    ticket_reopen_days: int = Field(default=7, ge=0, le=365)
    tickets_from_mail: bool = False


MAX_LOGO_BYTES = 1_000_000

_PROFILE_CODES = input_codes(OrganisationErrorCode)
AGENCY = "agency"


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise DomainError(OrganisationErrorCode.REQUIRED, "A name is required.", "name")
    if len(name) > MAX_NAME:
        raise DomainError(OrganisationErrorCode.TOO_LONG, f"At most {MAX_NAME} characters.", "name")
    return name


def _require_admin(actor: Actor) -> None:
    if require(actor, Resource.ORGANISATION, Access.WRITE) is not RowScope.AGENCY:
        raise forbidden(Resource.ORGANISATION, Access.WRITE)


async def create_org_unit(actor: Actor, name: str, parent_id: UUID | None) -> OrgUnit:
    _require_admin(actor)
    name = _name(name)
    unit_id = uuid4()
    path = f"/{unit_id}/"
    if parent_id is not None:
        parent = await OrgUnit.get_or_none(id=parent_id, agency_id=actor.agency_id)
        if parent is None:
            raise DomainError(OrganisationErrorCode.NOT_FOUND, "No such parent unit.", "parentId")
        path = f"{parent.path}{unit_id}/"
    async with in_transaction() as conn:
        unit = await OrgUnit.create(
            id=unit_id,
            agency_id=actor.agency_id,
            name=name,
            parent_id=parent_id,
            path=path,
            using_db=conn,
        )
        after = {"name": name, "parent_id": str(parent_id) if parent_id else None}
        await record_created(actor, "org_unit", str(unit.id), after, conn)
    return unit


async def _create_named(actor: Actor, model: type[Model], aggregate: str, name: str) -> Any:
    _require_admin(actor)
    name = _name(name)
    if await model.filter(agency_id=actor.agency_id, name=name).exists():
        raise DomainError(OrganisationErrorCode.NAME_TAKEN, f"{name!r} exists already.", "name")
    async with in_transaction() as conn:
        row = await model.create(agency_id=actor.agency_id, name=name, using_db=conn)
        await record_audit(actor, aggregate, str(row.pk), "create", {}, {"name": name}, conn)
        await append_event(
            actor, f"{aggregate}.created", aggregate, str(row.pk), {"name": name}, conn
        )
    return row


async def create_department(actor: Actor, name: str) -> Department:
    department: Department = await _create_named(actor, Department, "department", name)
    return department


async def create_designation(actor: Actor, name: str) -> Designation:
    designation: Designation = await _create_named(actor, Designation, "designation", name)
    return designation


async def _locked_unit(actor: Actor, unit_id: UUID, conn: BaseDBAsyncClient) -> OrgUnit:
    unit: OrgUnit | None = (
        await OrgUnit.filter(id=unit_id, agency_id=actor.agency_id)
        .using_db(conn)
        .select_for_update()
        .first()
    )
    if unit is None:
        raise DomainError(OrganisationErrorCode.NOT_FOUND, f"No unit with id {unit_id}.", "id")
    return unit


async def update_org_unit(actor: Actor, unit_id: UUID, data: dict[str, Any]) -> OrgUnit:
    """Rename a unit and/or move it (with everything below it) under another parent, or to the
    top with `parent_id` None. A unit cannot move under itself or its own descendants.

    Moving changes who its Sales Heads see: a head's team is their unit and all below it, so
    the moved subtree leaves the old ancestors' heads and joins the new ones'."""
    _require_admin(actor)
    async with in_transaction() as conn:
        unit = await _locked_unit(actor, unit_id, conn)
        before = _unit_snapshot(unit)
        if "name" in data:
            unit.name = _name(data["name"])
        if "parent_id" in data and data["parent_id"] != unit.parent_id:
            await _move(actor, unit, data["parent_id"], conn)
        await unit.save(using_db=conn)
        old, new = changed_fields(before, _unit_snapshot(unit))
        if new:
            await record_updated(actor, "org_unit", str(unit.id), old, new, conn)
    return unit


def _unit_snapshot(unit: OrgUnit) -> dict[str, Any]:
    return {"name": unit.name, "parent_id": str(unit.parent_id) if unit.parent_id else None}


async def _move(
    actor: Actor, unit: OrgUnit, parent_id: UUID | None, conn: BaseDBAsyncClient
) -> None:
    """Re-root the unit's subtree: every path under the old one is rewritten."""
    new_path = f"/{unit.id}/"
    if parent_id is not None:
        parent = (
            await OrgUnit.filter(id=parent_id, agency_id=actor.agency_id).using_db(conn).first()
        )
        if parent is None:
            raise DomainError(OrganisationErrorCode.NOT_FOUND, "No such parent unit.", "parent_id")
        if parent.path.startswith(unit.path):
            raise DomainError(
                OrganisationErrorCode.INVALID,
                "A unit cannot move under itself or a unit below it.",
                "parent_id",
            )
        new_path = f"{parent.path}{unit.id}/"
    old_path = unit.path
    subtree = await OrgUnit.filter(agency_id=actor.agency_id, path__startswith=old_path).using_db(
        conn
    )
    for below in subtree:
        if below.id != unit.id:
            below.path = new_path + below.path[len(old_path) :]
            await below.save(using_db=conn, update_fields=["path"])
    unit.parent_id = parent_id
    unit.path = new_path


def _blockers(counts: dict[str, int]) -> str:
    return " and ".join(f"{n} {what}{'' if n == 1 else 's'}" for what, n in counts.items() if n)


async def remove_org_unit(actor: Actor, unit_id: UUID) -> OrgUnit:
    """Retire an empty unit. One that still has users or child units is IN_USE, naming them:
    move them first (`updateUser`, `updateOrgUnit`)."""
    _require_admin(actor)
    async with in_transaction() as conn:
        unit = await _locked_unit(actor, unit_id, conn)
        counts = {
            "user": await User.filter(agency_id=actor.agency_id, org_unit_id=unit.id)
            .using_db(conn)
            .count(),
            "child unit": await OrgUnit.filter(agency_id=actor.agency_id, parent_id=unit.id)
            .using_db(conn)
            .count(),
        }
        if any(counts.values()):
            raise DomainError(
                OrganisationErrorCode.IN_USE,
                f"{unit.name!r} still has {_blockers(counts)}: move them to another unit first.",
                "id",
            )
        await unit.delete(using_db=conn)
        await record_deleted(actor, "org_unit", str(unit.id), _unit_snapshot(unit), conn)
    return unit


_NAMED_FIELD = {"department": "department_id", "designation": "designation_id"}


async def _locked_named(
    actor: Actor, model: type[Model], aggregate: str, row_id: UUID, conn: BaseDBAsyncClient
) -> Any:
    row = (
        await model.filter(id=row_id, agency_id=actor.agency_id)
        .using_db(conn)
        .select_for_update()
        .first()
    )
    if row is None:
        raise DomainError(
            OrganisationErrorCode.NOT_FOUND, f"No {aggregate} with id {row_id}.", "id"
        )
    return row


async def rename_named(
    actor: Actor, model: type[Model], aggregate: str, row_id: UUID, name: str
) -> Any:
    """Rename a department or designation (names stay unique in the agency)."""
    _require_admin(actor)
    name = _name(name)
    async with in_transaction() as conn:
        row = await _locked_named(actor, model, aggregate, row_id, conn)
        taken = (
            await model.filter(agency_id=actor.agency_id, name=name)
            .exclude(id=row_id)
            .using_db(conn)
            .exists()
        )
        if taken:
            raise DomainError(OrganisationErrorCode.NAME_TAKEN, f"{name!r} exists already.", "name")
        if row.name != name:
            old, row.name = row.name, name
            await row.save(using_db=conn, update_fields=["name"])
            await record_updated(actor, aggregate, str(row_id), {"name": old}, {"name": name}, conn)
    return row


async def remove_named(actor: Actor, model: type[Model], aggregate: str, row_id: UUID) -> Any:
    """Retire a department or designation nobody holds; IN_USE (naming how many hold it)
    otherwise: give those users another one first."""
    _require_admin(actor)
    async with in_transaction() as conn:
        row = await _locked_named(actor, model, aggregate, row_id, conn)
        holders = (
            await User.filter(agency_id=actor.agency_id, **{_NAMED_FIELD[aggregate]: row_id})
            .using_db(conn)
            .count()
        )
        if holders:
            raise DomainError(
                OrganisationErrorCode.IN_USE,
                f"{row.name!r} is held by {_blockers({'user': holders})}: change theirs first.",
                "id",
            )
        await row.delete(using_db=conn)
        await record_deleted(actor, aggregate, str(row_id), {"name": row.name}, conn)
    return row


async def org_units(actor: Actor) -> list[OrgUnit]:
    return await OrgUnit.filter(rows(actor, Resource.ORGANISATION, Access.READ, "id")).order_by(
        "path"
    )


async def departments(actor: Actor) -> list[Department]:
    query = Department.filter(rows(actor, Resource.ORGANISATION, Access.READ, "id"))
    return await query.order_by("name")


async def designations(actor: Actor) -> list[Designation]:
    query = Designation.filter(rows(actor, Resource.ORGANISATION, Access.READ, "id"))
    return await query.order_by("name")


def profile_snapshot(agency: Agency) -> dict[str, Any]:
    """The profile as audit rows and events show it."""
    return {
        "name": agency.name,
        "kind": agency.kind,
        "address": address_snapshot(agency),
        "website": agency.website,
        "time_zone": agency.time_zone,
        "locale": agency.locale,
        "logo_id": str(agency.logo_document_id) if agency.logo_document_id else None,
        "lead_assignee": agency.lead_assignee,
        "ticket_reopen_days": agency.ticket_reopen_days,
        "tickets_from_mail": agency.tickets_from_mail,
    }


def _profile_changes(data: dict[str, Any]) -> dict[str, Any]:
    try:
        merged = AgencyProfile.model_validate({"name": "-", **data})
    except ValidationError as exc:
        raise input_errors(exc, _PROFILE_CODES, OrganisationErrorCode.INVALID) from exc
    return merged.model_dump(include=set(data))


async def get_agency(actor: Actor) -> Agency:
    """The actor's own agency: every person and API key of it may read its profile."""
    agency: Agency | None = await Agency.get_or_none(id=actor.agency_id)
    if agency is None:
        raise DomainError(OrganisationErrorCode.NOT_FOUND, "No such agency.")
    return agency


async def update_agency(actor: Actor, data: dict[str, Any]) -> Agency:
    """Change the profile (admins); the address is replaced whole when given."""
    _require_admin(actor)
    changes = _profile_changes(data)
    columns = {key: value for key, value in changes.items() if key not in ("address", "logo_id")}
    columns.update(changes.get("address", {}))
    if "logo_id" in changes:
        columns["logo_document_id"] = changes["logo_id"]
    async with in_transaction() as conn:
        agency = await _locked_agency(actor, conn)
        if changes.get("logo_id") is not None:
            # An image document uploaded to the agency itself (POST /documents with the
            # Agency's id), small enough for every email to carry.
            await attached_image(
                agency.id,
                AGENCY,
                agency.id,
                changes["logo_id"],
                MAX_LOGO_BYTES,
                conn,
                OrganisationErrorCode,
                "logo_id",
            )
        if "lead_assignee" in changes:
            await _check_assignee(agency, changes["lead_assignee"], conn)
        before = profile_snapshot(agency)
        agency.update_from_dict(columns)
        await agency.save(using_db=conn)
        old, new = changed_fields(before, profile_snapshot(agency))
        if new:
            await record_updated(actor, AGENCY, str(agency.id), old, new, conn)
    return agency


async def _check_assignee(agency: Agency, assignee: str, conn: BaseDBAsyncClient) -> None:
    """A role every agency can have, or an active user of this agency."""
    if assignee.startswith(LEAD_ROLE_PREFIX):
        if assignee[len(LEAD_ROLE_PREFIX) :] not in {role.value for role in Role}:
            raise DomainError(
                OrganisationErrorCode.INVALID,
                "Name a role (role:sales_person, role:sales_head, ...) or a user.",
                "lead_assignee",
            )
        return
    try:
        user_id = UUID(assignee)
    except ValueError:
        user_id = None
    active = (
        user_id is not None
        and await User.filter(id=user_id, agency_id=agency.id, is_active=True)
        .using_db(conn)
        .exists()
    )
    if not active:
        raise DomainError(
            OrganisationErrorCode.NOT_FOUND, "No active user with that id.", "lead_assignee"
        )


async def _locked_agency(actor: Actor, conn: BaseDBAsyncClient) -> Agency:
    """The actor's agency row, locked until the transaction ends (PostgreSQL)."""
    agency: Agency | None = (
        await Agency.filter(id=actor.agency_id).using_db(conn).select_for_update().first()
    )
    if agency is None:
        raise DomainError(OrganisationErrorCode.NOT_FOUND, "No such agency.")
    return agency


def _slug(value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")[:60]
    if not slug:
        raise DomainError(OrganisationErrorCode.REQUIRED, "A slug is required.", "slug")
    return slug


async def bootstrap_agency(
    name: str, slug: str, admin_email: str, admin_name: str, admin_password: str
) -> tuple[Agency, User, bool]:
    """Create an agency with its first admin; if the slug exists, change nothing.

    Returns the agency, its admin and whether anything was created, so running it twice
    (a restarted deployment script) is safe.
    """
    slug = _slug(slug)
    existing = await Agency.get_or_none(slug=slug)
    if existing is not None:
        users = await User.filter(agency_id=existing.id).order_by("created_at")
        admins = [u for u in users if Role.ADMIN.value in u.roles]
        if not admins:
            raise DomainError(OrganisationErrorCode.NOT_FOUND, f"Agency {slug} has no admin.")
        return existing, admins[0], False
    admin_fields = validate_new_user(
        {
            "email": admin_email,
            "name": admin_name,
            "password": admin_password,
            "roles": [Role.ADMIN],
        }
    )
    email = admin_fields["email"]
    if await User.filter(email=email).exists():
        raise DomainError(OrganisationErrorCode.NAME_TAKEN, "That email has an account.", "email")
    async with in_transaction() as conn:
        agency = await Agency.create(name=_name(name), slug=slug, using_db=conn)
        system = Actor.system(agency.id, "bootstrap")
        admin = await User.create(
            agency_id=agency.id,
            email=email,
            name=admin_fields["name"],
            password_hash=hash_password(admin_password),
            roles=[Role.ADMIN.value],
            using_db=conn,
        )
        await record_audit(system, "agency", str(agency.id), "create", {}, {"slug": slug}, conn)
        await record_audit(system, "user", str(admin.id), "create", {}, {"email": email}, conn)
        await append_event(system, "agency.created", "agency", str(agency.id), {"slug": slug}, conn)
    return agency, admin, True
