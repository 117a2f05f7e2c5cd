"""Agency resolvers: its profile, org units, departments, designations."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from domain import agencies
from domain.agencies import OrganisationErrorCode
from resolvers.context import RequestContext, actor_of
from resolvers.errors import Outcome, answer, attempt
from resolvers.inputs import given, node_uuid, with_node_ids


async def agency(context: RequestContext) -> agencies.Agency:
    return await answer(agencies.get_agency(actor_of(context)))


def _assignee(value: str) -> str:
    """role:<role> as given; a User's node id as the user's UUID."""
    if value.strip().startswith(agencies.LEAD_ROLE_PREFIX):
        return value
    try:
        global_id = relay.GlobalID.from_id(value)
    except ValueError:
        return value  # the domain says what is wrong with it
    return str(node_uuid(global_id, "User", OrganisationErrorCode))


async def update_agency(context: RequestContext, data: Any) -> Outcome[agencies.Agency]:
    actor = actor_of(context)

    async def updated() -> agencies.Agency:
        fields = with_node_ids(given(data), OrganisationErrorCode, {"logo_id": "Document"})
        if isinstance(fields.get("lead_assignee"), str):
            fields["lead_assignee"] = _assignee(fields["lead_assignee"])
        return await agencies.update_agency(actor, fields)

    return await attempt(OrganisationErrorCode, updated)


async def org_units(context: RequestContext) -> list[Any]:
    return await answer(agencies.org_units(actor_of(context)))


async def departments(context: RequestContext) -> list[Any]:
    return await answer(agencies.departments(actor_of(context)))


async def designations(context: RequestContext) -> list[Any]:
    return await answer(agencies.designations(actor_of(context)))


async def create_org_unit(
    context: RequestContext, name: str, parent: relay.GlobalID | None
) -> Outcome[Any]:
    actor = actor_of(context)

    async def create() -> Any:
        parent_id = node_uuid(parent, "OrgUnit", OrganisationErrorCode) if parent else None
        return await agencies.create_org_unit(actor, name, parent_id)

    return await attempt(OrganisationErrorCode, create)


async def create_department(context: RequestContext, name: str) -> Outcome[Any]:
    actor = actor_of(context)
    return await attempt(OrganisationErrorCode, lambda: agencies.create_department(actor, name))


async def create_designation(context: RequestContext, name: str) -> Outcome[Any]:
    actor = actor_of(context)
    return await attempt(OrganisationErrorCode, lambda: agencies.create_designation(actor, name))


def _unit_changes(data: Any) -> dict[str, Any]:
    return with_node_ids(given(data), OrganisationErrorCode, {"parent_id": "OrgUnit"})


async def update_org_unit(context: RequestContext, data: Any) -> Outcome[Any]:
    actor = actor_of(context)

    async def update() -> Any:
        changes = _unit_changes(data)
        unit_id = node_uuid(changes.pop("id"), "OrgUnit", OrganisationErrorCode)
        return await agencies.update_org_unit(actor, unit_id, changes)

    return await attempt(OrganisationErrorCode, update)


async def remove_org_unit(context: RequestContext, global_id: relay.GlobalID) -> Outcome[Any]:
    actor = actor_of(context)

    async def remove() -> Any:
        unit_id = node_uuid(global_id, "OrgUnit", OrganisationErrorCode)
        return await agencies.remove_org_unit(actor, unit_id)

    return await attempt(OrganisationErrorCode, remove)


# GraphQL type name -> (model, aggregate) of the agency's named lists.
NAMED = {
    "Department": (agencies.Department, "department"),
    "Designation": (agencies.Designation, "designation"),
}


async def rename_named(
    context: RequestContext, type_name: str, global_id: relay.GlobalID, name: str
) -> Outcome[Any]:
    actor = actor_of(context)
    model, aggregate = NAMED[type_name]

    async def rename() -> Any:
        row_id = node_uuid(global_id, type_name, OrganisationErrorCode)
        return await agencies.rename_named(actor, model, aggregate, row_id, name)

    return await attempt(OrganisationErrorCode, rename)


async def remove_named(
    context: RequestContext, type_name: str, global_id: relay.GlobalID
) -> Outcome[Any]:
    actor = actor_of(context)
    model, aggregate = NAMED[type_name]

    async def remove() -> Any:
        row_id = node_uuid(global_id, type_name, OrganisationErrorCode)
        return await agencies.remove_named(actor, model, aggregate, row_id)

    return await attempt(OrganisationErrorCode, remove)
