"""Agencies and their organisation: units (a tree), departments and designations.

An agency is created by `crm bootstrap` (with its first admin), never through the API:
agencies do not create each other.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from tortoise.models import Model
from tortoise.transactions import in_transaction

from db.agencies import Agency as Agency
from db.agencies import Department as Department
from db.agencies import Designation as Designation
from db.agencies import OrgUnit as OrgUnit
from db.users import User
from domain.actors import Actor
from domain.audit import record_audit
from domain.errors import DomainError
from domain.events import append_event
from domain.passwords import hash_password
from domain.policies import forbidden, require, rows
from domain.record_changes import record_created
from domain.roles import Access, Resource, Role, RowScope
from domain.users import validate_new_user

MAX_NAME = 200


class OrganisationErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    NAME_TAKEN = "NAME_TAKEN"
    FORBIDDEN = "FORBIDDEN"


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
