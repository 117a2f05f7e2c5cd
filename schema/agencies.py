"""The agency's profile and its organisation: org units (a tree), departments, designations."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from domain.agencies import AgencyKind, OrganisationErrorCode
from domain.agencies import Department as DepartmentRecord
from domain.agencies import Designation as DesignationRecord
from domain.agencies import OrgUnit as OrgUnitRecord
from domain.inbound_addresses import Mailbox
from domain.public_pages import logo_path
from resolvers import agencies as resolve
from resolvers.errors import Outcome
from schema.contacts import Address, AddressInput, address_of
from schema.enum_values import described_enum, error_code_enum
from schema.payloads import errors_as
from schema.shared_fields import (
    MUTATION_INPUT,
    error_code,
    error_field,
    error_message,
    node_id,
    payload_errors,
    payload_record,
)

error_code_enum(OrganisationErrorCode, "OrganisationErrorCode", "the agency")
described_enum(
    AgencyKind,
    "AgencyKind",
    "What the agency does.",
    {"SALES": "It sells.", "SUPPORT": "It supports its customers.", "SALES_AND_SUPPORT": "Both."},
)


@strawberry.type(description="The agency's inbound mail addresses.")
class InboundAddresses:
    sales: str = strawberry.field(
        description="Mail from an unknown sender becomes a contact and a lead."
    )
    support: str = strawberry.field(description="Mail from known people reaches their timeline.")


@strawberry.type(
    description="The agency's profile: the sender of its messages (name and postal address in "
    "email footers), and the time zone and locale its people default to."
)
class Agency:
    @strawberry.field(description="The agency as a record documents go on (its logo).")
    def id(self, root: strawberry.Parent[Any]) -> relay.GlobalID:
        return relay.GlobalID("Agency", str(root.id))

    name: str = strawberry.field(description="The agency's name.")
    slug: str = strawberry.field(
        description="Its short unique name: lower-case letters, digits and dashes."
    )
    kind: AgencyKind = strawberry.field(
        description="What the agency does: sells, supports, or both."
    )
    website: str = strawberry.field(description="http(s) address, or empty.")
    time_zone: str = strawberry.field(description="An IANA zone name, e.g. Europe/London.")
    locale: str = strawberry.field(description="A language tag, e.g. en-GB.")
    ticket_reopen_days: int = strawberry.field(
        description="Days a resolved ticket may be reopened; then it closes for good."
    )
    tickets_from_mail: bool = strawberry.field(
        description="Whether mail to the support address opens tickets (off: timelines only)."
    )

    @strawberry.field(description="The postal address every marketing email carries.")
    def address(self, root: strawberry.Parent[Any]) -> Address:
        return address_of(root)

    @strawberry.field(
        description="Who owns a lead made from mail of an unknown sender: role:<role> (the "
        "least busy active user with the role) or a User's id."
    )
    def lead_assignee(self, root: strawberry.Parent[Any]) -> str:
        value: str = root.lead_assignee
        if value.startswith("role:"):
            return value
        return str(relay.GlobalID("User", value))

    @strawberry.field(
        description="Where mail reaches the CRM for this agency (null when the operator has "
        "not set an inbound domain). Point the agency's own addresses at these."
    )
    def inbound_addresses(
        self, root: strawberry.Parent[Any], info: Info
    ) -> InboundAddresses | None:
        domain = info.context.inbound_domain
        if not domain:
            return None
        return InboundAddresses(
            sales=f"{Mailbox.SALES}@{root.slug}.{domain}",
            support=f"{Mailbox.SUPPORT}@{root.slug}.{domain}",
        )

    @strawberry.field(description="The logo (a Document on the agency), if any.")
    def logo_id(self, root: strawberry.Parent[Any]) -> relay.GlobalID | None:
        document = root.logo_document_id
        return relay.GlobalID("Document", str(document)) if document else None

    @strawberry.field(
        description="Where anyone (an email client) fetches the logo: a path on the API's "
        "public address, e.g. /logos/<id>."
    )
    def logo_path(self, root: strawberry.Parent[Any]) -> str | None:
        document = root.logo_document_id
        return logo_path(document) if document else None


@strawberry.type(description="A unit of the organisation tree; Sales Heads see their subtree.")
class OrgUnit(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="Its name.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, OrgUnitRecord))

    @strawberry.field(description="The OrgUnit id it sits under; null for a top unit.")
    def parent_id(self, root: strawberry.Parent[OrgUnitRecord]) -> relay.GlobalID | None:
        return relay.GlobalID("OrgUnit", str(root.parent_id)) if root.parent_id else None


@strawberry.type(description="A department users can belong to.")
class Department(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="Its name.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, DepartmentRecord))


@strawberry.type(description="A job title users can hold.")
class Designation(relay.Node):
    id: relay.NodeID[str] = node_id()
    name: str = strawberry.field(description="Its name.")

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, DesignationRecord))


@strawberry.type(description="A problem with the input; nothing was changed.")
class OrganisationError:
    field: str | None = error_field()
    code: OrganisationErrorCode = error_code()
    message: str = error_message()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class OrgUnitPayload:
    org_unit: OrgUnit | None = payload_record("org unit")
    errors: list[OrganisationError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class DepartmentPayload:
    department: Department | None = payload_record("department")
    errors: list[OrganisationError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class DesignationPayload:
    designation: Designation | None = payload_record("designation")
    errors: list[OrganisationError] = payload_errors()


@strawberry.type(
    description="What the mutation answers: the record as saved, or the errors that "
    "stopped it (then nothing was changed)."
)
class AgencyPayload:
    agency: Agency | None = payload_record("agency")
    errors: list[OrganisationError] = payload_errors()


@strawberry.input(description="Fields left out are unchanged; an address given replaces the old.")
class UpdateAgencyInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 200 characters."
    )
    kind: AgencyKind | None = strawberry.field(
        default=strawberry.UNSET, description="What the agency does."
    )
    address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description="The whole new address."
    )
    website: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="An http(s) address, at most 500 characters (else INVALID_URL).",
    )
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="IANA name, e.g. Europe/London (else INVALID_TIME_ZONE).",
    )
    locale: str | None = strawberry.field(
        default=strawberry.UNSET, description="A locale tag, e.g. en-GB (else INVALID_LOCALE)."
    )
    ticket_reopen_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="0 to 365 (OUT_OF_RANGE otherwise)."
    )
    tickets_from_mail: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Whether new mail to the support address opens a ticket.",
    )
    logo_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="An image Document uploaded to the agency (POST /documents?recordId=<agency "
        "id>); null removes the logo.",
    )
    lead_assignee: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="role:<role> (e.g. role:sales_person) or an active User's id. NOT_FOUND "
        "for a user who is not an active user of the agency.",
    )


@strawberry.input(description="A unit of the organisation tree.")
class CreateOrgUnitInput:
    name: str = strawberry.field(description="1 to 200 characters.")
    parent_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The OrgUnit to put it under; null for a top unit."
    )


@strawberry.input(description="A name for a new department or designation.")
class CreateNamedInput:
    name: str = strawberry.field(
        description="1 to 200 characters, unique in the agency (else NAME_TAKEN)."
    )


@strawberry.input(description="Fields left out are unchanged.")
class UpdateOrgUnitInput:
    id: relay.GlobalID = strawberry.field(description="The OrgUnit to change.")
    name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new name, 1 to 100 characters (NAME_TAKEN beside a sibling of that name).",
    )
    parent_id: relay.GlobalID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Move the unit (and all below it) under this one; null: to the top. "
        "INVALID under itself or a unit below it.",
    )


@strawberry.input(description="What to remove.")
class RemoveInput:
    id: relay.GlobalID = strawberry.field(description="The OrgUnit, Department or Designation.")


@strawberry.input(description="What to rename, and its new name.")
class RenameInput:
    id: relay.GlobalID = strawberry.field(description="The Department or Designation.")
    name: str = strawberry.field(description="1 to 100 characters, unique in the agency.")


@strawberry.type
class AgencyQuery:
    @strawberry.field(description="Your agency's profile (everyone in the agency).")
    async def agency(self, info: Info) -> Agency:
        return await resolve.agency(info.context)  # type: ignore[return-value]

    @strawberry.field(description="The agency's organisation units.")
    async def org_units(self, info: Info) -> list[OrgUnit]:
        return await resolve.org_units(info.context)

    @strawberry.field(description="The agency's departments.")
    async def departments(self, info: Info) -> list[Department]:
        return await resolve.departments(info.context)

    @strawberry.field(description="The agency's designations (job titles).")
    async def designations(self, info: Info) -> list[Designation]:
        return await resolve.designations(info.context)


def _errors(outcome: Outcome[Any]) -> list[OrganisationError]:
    return errors_as(OrganisationError, outcome.errors)


@strawberry.type
class AgencyMutation:
    @strawberry.mutation(description="Admins change the agency's profile; audited.")
    async def update_agency(
        self, info: Info, input: Annotated[UpdateAgencyInput, MUTATION_INPUT]
    ) -> AgencyPayload:
        outcome = await resolve.update_agency(info.context, input)
        return AgencyPayload(agency=outcome.value, errors=_errors(outcome))  # type: ignore[arg-type]

    @strawberry.mutation(description="Admins build the organisation tree.")
    async def create_org_unit(
        self, info: Info, input: Annotated[CreateOrgUnitInput, MUTATION_INPUT]
    ) -> OrgUnitPayload:
        outcome = await resolve.create_org_unit(info.context, input.name, input.parent_id)
        return OrgUnitPayload(org_unit=outcome.value, errors=_errors(outcome))

    @strawberry.mutation(
        description="Admins: add a department users can belong to. Errors: REQUIRED, "
        "TOO_LONG, NAME_TAKEN, FORBIDDEN."
    )
    async def create_department(
        self, info: Info, input: Annotated[CreateNamedInput, MUTATION_INPUT]
    ) -> DepartmentPayload:
        outcome = await resolve.create_department(info.context, input.name)
        return DepartmentPayload(department=outcome.value, errors=_errors(outcome))

    @strawberry.mutation(
        description="Admins: add a designation (job title) users can hold. Errors: REQUIRED, "
        "TOO_LONG, NAME_TAKEN, FORBIDDEN."
    )
    async def create_designation(
        self, info: Info, input: Annotated[CreateNamedInput, MUTATION_INPUT]
    ) -> DesignationPayload:
        outcome = await resolve.create_designation(info.context, input.name)
        return DesignationPayload(designation=outcome.value, errors=_errors(outcome))

    @strawberry.mutation(
        description="Admins rename a unit or move it, with everything below it, under another "
        "parent (Sales Heads' teams follow the tree). Audited."
    )
    async def update_org_unit(
        self, info: Info, input: Annotated[UpdateOrgUnitInput, MUTATION_INPUT]
    ) -> OrgUnitPayload:
        outcome = await resolve.update_org_unit(info.context, input)
        return OrgUnitPayload(org_unit=outcome.value, errors=_errors(outcome))

    @strawberry.mutation(
        description="Admins retire an empty unit. IN_USE, naming what blocks it, while users "
        "or child units are in it: move them first. Returns the unit as it was."
    )
    async def remove_org_unit(
        self, info: Info, input: Annotated[RemoveInput, MUTATION_INPUT]
    ) -> OrgUnitPayload:
        outcome = await resolve.remove_org_unit(info.context, input.id)
        return OrgUnitPayload(org_unit=outcome.value, errors=_errors(outcome))

    @strawberry.mutation(description="Admins rename a department (NAME_TAKEN if it exists).")
    async def update_department(
        self, info: Info, input: Annotated[RenameInput, MUTATION_INPUT]
    ) -> DepartmentPayload:
        outcome = await resolve.rename_named(info.context, "Department", input.id, input.name)
        return DepartmentPayload(department=outcome.value, errors=_errors(outcome))

    @strawberry.mutation(
        description="Admins retire a department nobody is in (IN_USE, naming how many are)."
    )
    async def remove_department(
        self, info: Info, input: Annotated[RemoveInput, MUTATION_INPUT]
    ) -> DepartmentPayload:
        outcome = await resolve.remove_named(info.context, "Department", input.id)
        return DepartmentPayload(department=outcome.value, errors=_errors(outcome))

    @strawberry.mutation(description="Admins rename a designation (NAME_TAKEN if it exists).")
    async def update_designation(
        self, info: Info, input: Annotated[RenameInput, MUTATION_INPUT]
    ) -> DesignationPayload:
        outcome = await resolve.rename_named(info.context, "Designation", input.id, input.name)
        return DesignationPayload(designation=outcome.value, errors=_errors(outcome))

    @strawberry.mutation(
        description="Admins retire a designation nobody holds (IN_USE, naming how many do)."
    )
    async def remove_designation(
        self, info: Info, input: Annotated[RemoveInput, MUTATION_INPUT]
    ) -> DesignationPayload:
        outcome = await resolve.remove_named(info.context, "Designation", input.id)
        return DesignationPayload(designation=outcome.value, errors=_errors(outcome))
