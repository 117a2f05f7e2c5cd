"""User (employee) types, inputs and mutations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.pagination import DEFAULT_PAGE_SIZE
from domain.referral_codes import ReferrerType
from domain.roles import Role
from domain.users import Colleague, UserErrorCode
from domain.users import User as UserRecord
from resolvers import users as resolve
from resolvers.errors import Outcome
from resolvers.referral_codes import link_of as referral_link_of
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    After,
    CampaignCode,
    First,
    RecordId,
    created_at,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

if TYPE_CHECKING:
    RoleEnum = StrEnum
else:
    RoleEnum = described_enum(
        Role,
        "Role",
        "What a user may do; a user's roles add up, the widest scope winning.",
        {
            "ADMIN": "Everything in the agency: every record, users, settings, keys, webhooks.",
            "SYSADMIN": "The machinery: flows, templates and custom fields; no sales data.",
            "SALES_HEAD": "Their team's sales records, read and write; the tag catalogue.",
            "SALES_PERSON": "Their own sales records.",
            "CUSTOMER_SUPPORT": "Reads every sales record; changes the ones assigned to them.",
            "MARKETING": "Reads every sales record, changes their own; runs broadcasts.",
        },
    )

error_code_enum(UserErrorCode, "UserErrorCode", "users")


def _gid(type_name: str, value: Any) -> relay.GlobalID | None:
    return relay.GlobalID(type_name, str(value)) if value else None


@strawberry.type(description="An employee of the agency who signs in.")
class User(relay.Node):
    id: relay.NodeID[str] = node_id()
    email: str = strawberry.field(description="The address the user signs in with (lower case).")
    name: str = strawberry.field(description="Their full name.")
    roles: list[RoleEnum] = strawberry.field(description="What they may do; at least one.")
    is_active: bool = strawberry.field(
        description="False once they have left: they cannot sign in and get no new work."
    )
    created_at: datetime = created_at()
    time_zone: str | None = strawberry.field(
        description="An IANA zone name, e.g. Europe/London; null: the agency's `timeZone`."
    )
    phone: str = strawberry.field(description="E.164 (+441234567890), or empty.")

    @strawberry.field(
        description="Their picture: an image Document on the user (download it from "
        "/documents/<id>), or null."
    )
    def picture_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("Document", root.picture_document_id)

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, UserRecord))

    @strawberry.field(description="The OrgUnit id they belong to, if any.")
    def org_unit_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("OrgUnit", root.org_unit_id)

    @strawberry.field(description="The Department id they belong to, if any.")
    def department_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("Department", root.department_id)

    @strawberry.field(description="The Designation id (job title) they hold, if any.")
    def designation_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("Designation", root.designation_id)

    @strawberry.field(description="The User id of their manager, if any.")
    def manager_id(self, root: strawberry.Parent[UserRecord]) -> relay.GlobalID | None:
        return _gid("User", root.manager_id)

    @strawberry.field(
        description=(
            "The link this user shares to refer people to the agency's public, active "
            "referral campaign with this code (its page, with the user's referral code); "
            "null for any other campaign, or for a colleague's link unless you are an admin "
            "or in marketing."
        )
    )
    async def referral_link(
        self,
        info: Info,
        root: strawberry.Parent[UserRecord],
        campaign_code: CampaignCode,
    ) -> str | None:
        return await referral_link_of(
            info.context, ReferrerType.USER, UUID(str(root.id)), campaign_code
        )


@strawberry.type(description="Who owns or handles a record: a colleague's name only.")
class UserSummary:
    name: str = strawberry.field(description="Their full name.")

    @strawberry.field(description="The User's global id.")
    def id(self, root: strawberry.Parent[Colleague]) -> relay.GlobalID:
        return relay.GlobalID("User", str(root.id))


@strawberry.type(description="A problem with the input; nothing was changed.")
class UserError:
    field: str | None = error_field()
    code: UserErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class UserPayload:
    user: User | None = payload_record("user")
    errors: list[UserError] = payload_errors()


def user_payload(outcome: Outcome[UserRecord]) -> UserPayload:
    return UserPayload(user=outcome.value, errors=errors_as(UserError, outcome.errors))  # type: ignore[arg-type]


@strawberry.input(
    description="A new employee. Errors: REQUIRED, TOO_LONG, TOO_MANY, INVALID_EMAIL, "
    "EMAIL_TAKEN, WEAK_PASSWORD, INVALID_TIME_ZONE, NOT_FOUND, FORBIDDEN."
)
class CreateUserInput:
    email: str = strawberry.field(
        description="Their sign-in address (stored lower case, unique across the API)."
    )
    name: str = strawberry.field(description="Full name: 1 to 200 characters.")
    password: str = strawberry.field(description="10 to 256 characters; stored as argon2id.")
    roles: list[RoleEnum] = strawberry.field(description="1 to 6 roles.")
    org_unit_id: relay.GlobalID | None = strawberry.field(
        default=None, description="An OrgUnit id of the agency."
    )
    department_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A Department id of the agency."
    )
    designation_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A Designation id of the agency."
    )
    manager_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A User id of the agency: their manager."
    )
    time_zone: str | None = strawberry.field(
        default=None, description="An IANA zone name; null: the agency's."
    )


@strawberry.input(description="Fields left out are unchanged.")
class UpdateUserInput:
    id: relay.GlobalID = node_id()
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new sign-in address (unique; else EMAIL_TAKEN)."
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters."
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new password: 10 to 256 characters (else WEAK_PASSWORD); ends their "
        "other sessions.",
    )
    roles: list[RoleEnum] | None = strawberry.field(
        default=strawberry.UNSET, description="The whole new list: 1 to 6 roles."
    )
    org_unit_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="An OrgUnit id, or null."
    )
    department_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Department id, or null."
    )
    designation_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A Designation id, or null."
    )
    manager_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET, description="A User id, or null."
    )
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false deactivates: the user can no longer sign in."
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET, description="An IANA zone name; null: the agency's."
    )
    reassign_to_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="With isActive: false, who takes over the user's open work (contacts, "
        "customers, open leads, deals, calling tasks and meetings); left out: their manager, "
        "else the nearest Sales Head up their org unit, else you. See docs/accounts.md.",
    )


@strawberry.input(description="Your own profile; fields left out are unchanged.")
class UpdateMyProfileInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Your name as others see it, 1 to 100 characters."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="International form (+44 20 7946 0000), stored as E.164; null or empty "
        "removes it. INVALID_PHONE otherwise.",
    )
    picture_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="A PNG, JPEG, GIF or WebP Document of at most 2 MB uploaded to your own "
        "User (POST /documents?recordId=<your user id>); null removes the picture.",
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET, description="An IANA zone name; null: the agency's."
    )


@strawberry.type
class UserQuery:
    @strawberry.field(description="One user in the caller's scope, or null.")
    async def user(self, info: Info, id: RecordId) -> User | None:
        return await resolve.user(info.context, id)  # type: ignore[return-value]

    @strawberry.field(description="Users in the caller's scope, by email.")
    async def users(
        self, info: Info, first: First = DEFAULT_PAGE_SIZE, after: After = None
    ) -> relay.Connection[User]:
        return await resolve.users_page(info.context, first, after)


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Admins add employees.")
    async def create_user(
        self, info: Info, input: Annotated[CreateUserInput, MUTATION_INPUT]
    ) -> UserPayload:
        return user_payload(await resolve.create_user(info.context, input))

    @strawberry.mutation(
        description="Admins change details, roles, place and active flag; deactivating hands "
        "the user's open work to `reassignToId` or a default successor."
    )
    async def update_user(
        self, info: Info, input: Annotated[UpdateUserInput, MUTATION_INPUT]
    ) -> UserPayload:
        return user_payload(await resolve.update_user(info.context, input))

    @strawberry.mutation(
        description="Change your own name, phone, picture and time zone (every person; not "
        "API keys). Audited."
    )
    async def update_my_profile(
        self, info: Info, input: Annotated[UpdateMyProfileInput, MUTATION_INPUT]
    ) -> UserPayload:
        return user_payload(await resolve.update_my_profile(info.context, input))
