"""User (employee) types, inputs and mutations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.pagination import DEFAULT_PAGE_SIZE
from domain.roles import Role
from domain.users import Colleague, UserErrorCode
from domain.users import User as UserRecord
from resolvers import users as resolve
from resolvers.errors import Outcome
from schema.payloads import errors_as

if TYPE_CHECKING:
    RoleEnum = StrEnum
else:
    RoleEnum = strawberry.enum(Role, name="Role", description="What a user may do.")

strawberry.enum(UserErrorCode, name="UserErrorCode")


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(description="An employee of the agency who signs in.")
class User(relay.Node):
    id: relay.NodeID[str]
    email: str
    name: str
    roles: list[RoleEnum]
    is_active: bool
    created_at: datetime
    time_zone: str | None = strawberry.field(
        description="An IANA zone name, e.g. Europe/London; null: the agency's `timeZone`."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, UserRecord))

    @strawberry.field
    def org_unit_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("OrgUnit", root.org_unit_id)

    @strawberry.field
    def department_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("Department", root.department_id)

    @strawberry.field
    def designation_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("Designation", root.designation_id)

    @strawberry.field
    def manager_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("User", root.manager_id)


@strawberry.type(description="Who owns or handles a record: a colleague's name only.")
class UserSummary:
    name: str

    @strawberry.field
    def id(self, root: strawberry.Parent[Colleague]) -> relay.GlobalID:
        return relay.GlobalID("User", str(root.id))


@strawberry.type
class UserError:
    field: str | None
    code: UserErrorCode
    message: str


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


def user_payload(outcome: Outcome[UserRecord]) -> UserPayload:
    return UserPayload(user=outcome.value, errors=errors_as(UserError, outcome.errors))  # type: ignore[arg-type]


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    password: str = strawberry.field(description="10 to 256 characters; stored as argon2id.")
    roles: list[RoleEnum]
    org_unit_id: relay.GlobalID | None = None
    department_id: relay.GlobalID | None = None
    designation_id: relay.GlobalID | None = None
    manager_id: relay.GlobalID | None = None
    time_zone: str | None = strawberry.field(
        default=None, description="An IANA zone name; null: the agency's."
    )


@strawberry.input(description="Fields left out are unchanged.")
class UpdateUserInput:
    id: relay.GlobalID
    email: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    password: str | None = strawberry.UNSET
    roles: list[RoleEnum] | None = strawberry.UNSET
    org_unit_id: relay.GlobalID | None = strawberry.UNSET
    department_id: relay.GlobalID | None = strawberry.UNSET
    designation_id: relay.GlobalID | None = strawberry.UNSET
    manager_id: relay.GlobalID | None = strawberry.UNSET
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false deactivates: the user can no longer sign in."
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET, description="An IANA zone name; null: the agency's."
    )


@strawberry.type
class UserQuery:
    @strawberry.field(description="One user in the caller's scope, or null.")
    async def user(self, info: Info, id: relay.GlobalID) -> User | None:
        return await resolve.user(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description="Users in the caller's scope, by email.")
    async def users(
        self, info: Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> relay.Connection[User]:
        return await resolve.users_page(info.context, first, after)


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Admins add employees.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        return user_payload(await resolve.create_user(info.context, input))

    @strawberry.mutation(description="Admins change details, roles, place and active flag.")
    async def update_user(self, info: Info, input: UpdateUserInput) -> UserPayload:
        return user_payload(await resolve.update_user(info.context, input))
