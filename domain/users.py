"""Employees: create, change roles and place in the organisation, deactivate, list by scope;
each person's own profile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from tortoise.transactions import in_transaction

from db.agencies import Department, Designation, OrgUnit
from db.users import User as User
from domain.actors import Actor
from domain.audit import changed_fields
from domain.errors import DomainError, input_errors
from domain.field_types import Email, Phone, RequiredName, TimeZone, input_codes
from domain.images import attached_image
from domain.pagination import Ordering, Page, keyset_page
from domain.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from domain.policies import forbidden, require, rows
from domain.record_changes import record_created, record_updated
from domain.roles import Access, Resource, Role, RowScope
from domain.user_departures import hand_over, successor

AGGREGATE = "user"


class UserErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    INVALID_EMAIL = "INVALID_EMAIL"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    INVALID_TIME_ZONE = "INVALID_TIME_ZONE"
    INVALID_PHONE = "INVALID_PHONE"
    FORBIDDEN = "FORBIDDEN"


_PYDANTIC_CODES = {**input_codes(UserErrorCode), "weak_password": UserErrorCode.WEAK_PASSWORD}


def _password(value: str) -> str:
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        raise PydanticCustomError("weak_password", f"Use {MIN_LENGTH} to {MAX_LENGTH} characters.")
    return value


class UserChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[Email, AfterValidator(str.lower)]  # sign-in is case-insensitive
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    password: Annotated[str, AfterValidator(_password)]
    roles: Annotated[list[Role], Field(min_length=1, max_length=6)]
    org_unit_id: UUID | None = None
    department_id: UUID | None = None
    designation_id: UUID | None = None
    manager_id: UUID | None = None
    is_active: bool = True
    time_zone: TimeZone | None = None  # None: the agency's


def _parse(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    try:
        if partial:
            filler = {"email": "x@example.com", "name": "x", "password": "x" * MIN_LENGTH}
            merged = UserChanges.model_validate({"roles": [Role.SALES_PERSON], **filler, **data})
            return merged.model_dump(include=set(data))
        return UserChanges.model_validate(data).model_dump()
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, UserErrorCode.INVALID) from exc


def validate_new_user(data: dict[str, Any]) -> dict[str, Any]:
    """A new user's fields, validated as `create_user` validates them (password included)."""
    return _parse(data, partial=False)


def snapshot(user: User) -> dict[str, Any]:
    """Fields for audit and events; never the password hash."""
    return {
        "email": user.email,
        "name": user.name,
        "roles": sorted(user.roles),
        "org_unit_id": str(user.org_unit_id) if user.org_unit_id else None,
        "department_id": str(user.department_id) if user.department_id else None,
        "designation_id": str(user.designation_id) if user.designation_id else None,
        "manager_id": str(user.manager_id) if user.manager_id else None,
        "is_active": user.is_active,
        "time_zone": user.time_zone,
        "phone": user.phone,
        "picture_id": str(user.picture_document_id) if user.picture_document_id else None,
    }


async def team_of(user_id: UUID, agency_id: UUID, org_unit_id: UUID | None) -> frozenset[UUID]:
    """The user and everyone in the user's org unit or below (a Sales Head's team)."""
    if org_unit_id is None:
        return frozenset({user_id})
    return frozenset({user_id, *await unit_members(agency_id, org_unit_id)})


async def unit_members(agency_id: UUID, org_unit_id: UUID) -> frozenset[UUID]:
    """Everyone in the org unit or below (none if the agency has no such unit)."""
    unit = await OrgUnit.get_or_none(id=org_unit_id, agency_id=agency_id)
    if unit is None:
        return frozenset()
    units = await OrgUnit.filter(agency_id=agency_id, path__startswith=unit.path).values_list(
        "id", flat=True
    )
    members = await User.filter(agency_id=agency_id, org_unit_id__in=units).values_list(
        "id", flat=True
    )
    return frozenset(UUID(str(member)) for member in members)


def _visible(actor: Actor) -> Any:
    return User.filter(rows(actor, Resource.USERS, Access.READ, owner_field="id"))


async def get_user(actor: Actor, user_id: UUID) -> User:
    user: User | None = await _visible(actor).get_or_none(id=user_id)
    if user is None:
        raise DomainError(UserErrorCode.NOT_FOUND, f"No user with id {user_id}.", "id")
    return user


async def list_users(actor: Actor, first: int, after: str | None = None) -> Page[User]:
    return await keyset_page(_visible(actor), Ordering("email"), first, after)


async def _check_references(actor: Actor, fields: dict[str, Any]) -> None:
    """Org unit, department, designation and manager must be of the actor's agency."""
    checks = (
        ("org_unit_id", OrgUnit),
        ("department_id", Department),
        ("designation_id", Designation),
        ("manager_id", User),
    )
    for field, model in checks:
        value = fields.get(field)
        exists = value is None or await model.filter(id=value, agency_id=actor.agency_id).exists()
        if not exists:
            raise DomainError(UserErrorCode.NOT_FOUND, f"No such {field[:-3]}.", field)


async def create_user(actor: Actor, data: dict[str, Any]) -> User:
    if require(actor, Resource.USERS, Access.WRITE) is not RowScope.AGENCY:
        raise forbidden(Resource.USERS, Access.WRITE)
    fields = _parse(data, partial=False)
    await _check_references(actor, fields)
    if await User.filter(email=fields["email"]).exists():
        raise DomainError(UserErrorCode.EMAIL_TAKEN, "That email already has an account.", "email")
    password = fields.pop("password")
    async with in_transaction() as conn:
        user = await User.create(
            agency_id=actor.agency_id,
            password_hash=hash_password(password),
            **{**fields, "roles": [str(r) for r in fields["roles"]]},
            using_db=conn,
        )
        after = snapshot(user)
        await record_created(actor, AGGREGATE, str(user.id), after, conn)
    return user


async def update_user(actor: Actor, user_id: UUID, data: dict[str, Any]) -> User:
    """Change a user's details, roles, place or active flag; a new password is re-hashed.
    Deactivating hands the user's open work to `reassign_to_id` or a default successor."""
    if require(actor, Resource.USERS, Access.WRITE) is not RowScope.AGENCY:
        raise forbidden(Resource.USERS, Access.WRITE)
    data = dict(data)
    reassign_to = data.pop("reassign_to_id", None)
    fields = _parse(data, partial=True)
    await _check_references(actor, fields)
    async with in_transaction() as conn:
        user = await User.filter(id=user_id, agency_id=actor.agency_id).using_db(conn).first()
        if user is None:
            raise DomainError(UserErrorCode.NOT_FOUND, f"No user with id {user_id}.", "id")
        if user.is_active and fields.get("is_active") is False:
            # Their open work moves on with the deactivation (`domain.user_departures`).
            to = await successor(actor, user, reassign_to, conn, UserErrorCode)
            await hand_over(actor, user, to, conn)
        new_email = fields.get("email", user.email)
        if new_email != user.email and await User.filter(email=new_email).using_db(conn).exists():
            raise DomainError(UserErrorCode.EMAIL_TAKEN, "That email has an account.", "email")
        before = snapshot(user)
        if "password" in fields:
            user.password_hash = hash_password(fields.pop("password"))
        if "roles" in fields:
            fields["roles"] = [str(r) for r in fields["roles"]]
        user.update_from_dict(fields)
        await user.save(using_db=conn)
        old, new = changed_fields(before, snapshot(user))
        await record_updated(actor, AGGREGATE, str(user.id), old, new, conn)
    return user


async def assignable_owner(actor: Actor, owner_id: UUID | None) -> bool:
    """Is `owner_id` an active user of the actor's agency (or no owner at all)?"""
    if owner_id is None:
        return True
    return await User.filter(id=owner_id, agency_id=actor.agency_id, is_active=True).exists()


@dataclass(frozen=True, slots=True)
class Colleague:
    """Who owns or handles a record: a user's id and name, all a colleague may see."""

    id: UUID
    name: str


async def colleagues_by_ids(actor: Actor, ids: Sequence[UUID]) -> dict[UUID, Colleague]:
    """Users of the actor's agency by id, for showing who owns or handles a record (name
    only: the full user record stays behind the USERS policy). Plain rows: a page of records
    names the same few owners many times."""
    found = await User.filter(agency_id=actor.agency_id, id__in=list(ids)).values_list("id", "name")
    colleagues = (Colleague(_uuid(user_id), name) for user_id, name in found)
    return {colleague.id: colleague for colleague in colleagues}


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class ProfileChanges(BaseModel):
    """What a person changes on their own profile; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: RequiredName
    phone: Phone | None = None  # None or empty: no phone
    picture_id: UUID | None = None  # an image document on the user; None removes it
    time_zone: TimeZone | None = None  # None: the agency's


MAX_PICTURE_BYTES = 2_000_000


async def update_profile(actor: Actor, data: dict[str, Any]) -> User:
    """The signed-in person's own name, phone, picture and time zone (any role: everyone owns
    their profile); audited like an admin's change."""
    if actor.user_id is None:
        raise DomainError(UserErrorCode.FORBIDDEN, "Only a person has a profile, not an API key.")
    if data.get("phone") == "":
        data = {**data, "phone": None}
    try:
        changes = ProfileChanges.model_validate({"name": "-", **data}).model_dump(include=set(data))
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, UserErrorCode.INVALID) from exc
    columns = {key: value for key, value in changes.items() if key != "picture_id"}
    if "phone" in columns:
        columns["phone"] = columns["phone"] or ""
    async with in_transaction() as conn:
        user = (
            await User.filter(id=actor.user_id, agency_id=actor.agency_id)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if user is None:
            raise DomainError(UserErrorCode.NOT_FOUND, "No such user.", "id")
        if "picture_id" in changes:
            if changes["picture_id"] is not None:
                # An image document uploaded to the user themselves (POST /documents).
                await attached_image(
                    user.agency_id,
                    AGGREGATE,
                    user.id,
                    changes["picture_id"],
                    MAX_PICTURE_BYTES,
                    conn,
                    UserErrorCode,
                    "picture_id",
                )
            columns["picture_document_id"] = changes["picture_id"]
        before = snapshot(user)
        user.update_from_dict(columns)
        await user.save(using_db=conn)
        old, new = changed_fields(before, snapshot(user))
        if new:
            await record_updated(actor, AGGREGATE, str(user.id), old, new, conn)
    return user
