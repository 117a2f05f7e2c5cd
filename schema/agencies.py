"""The agency's profile and its organisation: org units (a tree), departments, designations."""

from __future__ import annotations

from typing import Any

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
from schema.payloads import errors_as

strawberry.enum(OrganisationErrorCode, name="OrganisationErrorCode")
strawberry.enum(AgencyKind, name="AgencyKind")


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

    name: str
    slug: str
    kind: AgencyKind
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
    id: relay.NodeID[str]
    name: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, OrgUnitRecord))

    @strawberry.field
    def parent_id(self, root: strawberry.Parent[OrgUnitRecord]) -> relay.GlobalID | None:
        return relay.GlobalID("OrgUnit", str(root.parent_id)) if root.parent_id else None


@strawberry.type
class Department(relay.Node):
    id: relay.NodeID[str]
    name: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, DepartmentRecord))


@strawberry.type
class Designation(relay.Node):
    id: relay.NodeID[str]
    name: str

    @classmethod
    def is_type_of(cls, obj: Any, _info: Info) -> bool:
        return isinstance(obj, (cls, DesignationRecord))


@strawberry.type
class OrganisationError:
    field: str | None
    code: OrganisationErrorCode
    message: str


@strawberry.type
class OrgUnitPayload:
    org_unit: OrgUnit | None
    errors: list[OrganisationError]


@strawberry.type
class DepartmentPayload:
    department: Department | None
    errors: list[OrganisationError]


@strawberry.type
class DesignationPayload:
    designation: Designation | None
    errors: list[OrganisationError]


@strawberry.type
class AgencyPayload:
    agency: Agency | None
    errors: list[OrganisationError]


@strawberry.input(description="Fields left out are unchanged; an address given replaces the old.")
class UpdateAgencyInput:
    name: str | None = strawberry.UNSET
    kind: AgencyKind | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    time_zone: str | None = strawberry.UNSET
    locale: str | None = strawberry.UNSET
    ticket_reopen_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="0 to 365 (OUT_OF_RANGE otherwise)."
    )
    tickets_from_mail: bool | None = strawberry.UNSET
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


@strawberry.input
class CreateOrgUnitInput:
    name: str
    parent_id: relay.GlobalID | None = None


@strawberry.input
class CreateNamedInput:
    name: str


@strawberry.type
class AgencyQuery:
    @strawberry.field(description="Your agency's profile (everyone in the agency).")
    async def agency(self, info: Info) -> Agency:
        return await resolve.agency(info.context)  # type: ignore[return-value]

    @strawberry.field
    async def org_units(self, info: Info) -> list[OrgUnit]:
        return await resolve.org_units(info.context)

    @strawberry.field
    async def departments(self, info: Info) -> list[Department]:
        return await resolve.departments(info.context)

    @strawberry.field
    async def designations(self, info: Info) -> list[Designation]:
        return await resolve.designations(info.context)


def _errors(outcome: Outcome[Any]) -> list[OrganisationError]:
    return errors_as(OrganisationError, outcome.errors)


@strawberry.type
class AgencyMutation:
    @strawberry.mutation(description="Admins change the agency's profile; audited.")
    async def update_agency(self, info: Info, input: UpdateAgencyInput) -> AgencyPayload:
        outcome = await resolve.update_agency(info.context, input)
        return AgencyPayload(agency=outcome.value, errors=_errors(outcome))  # type: ignore[arg-type]

    @strawberry.mutation(description="Admins build the organisation tree.")
    async def create_org_unit(self, info: Info, input: CreateOrgUnitInput) -> OrgUnitPayload:
        outcome = await resolve.create_org_unit(info.context, input.name, input.parent_id)
        return OrgUnitPayload(org_unit=outcome.value, errors=_errors(outcome))

    @strawberry.mutation
    async def create_department(self, info: Info, input: CreateNamedInput) -> DepartmentPayload:
        outcome = await resolve.create_department(info.context, input.name)
        return DepartmentPayload(department=outcome.value, errors=_errors(outcome))

    @strawberry.mutation
    async def create_designation(self, info: Info, input: CreateNamedInput) -> DesignationPayload:
        outcome = await resolve.create_designation(info.context, input.name)
        return DesignationPayload(designation=outcome.value, errors=_errors(outcome))
