"""The agency's profile as a client app uses it: everyone reads it, admins change it (audited,
as an event), bad values are typed errors on their field, and users get their own time zone."""

from __future__ import annotations

import base64
from typing import Any

from strawberry import relay

from db.agencies import Agency, OrgUnit
from db.audit import AuditEntry
from db.events import Event
from domain import agencies, users
from domain.roles import Role
from tests.e2e.colleagues import PASSWORD, acme_system, colleague, member
from tests.e2e.conftest import Api

PROFILE = "name slug kind website timeZone locale address { street city postalCode country }"
AGENCY = f"{{ agency {{ {PROFILE} }} }}"
UPDATE = f"""
mutation Update($input: UpdateAgencyInput!) {{
  updateAgency(input: $input) {{ agency {{ {PROFILE} }} errors {{ field code message }} }}
}}"""
LONDON_OFFICE = {
    "street": "1 Fleet Street",
    "city": "London",
    "postalCode": "EC4Y 1AA",
    "country": "gb",
}


async def update(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(UPDATE, {"input": fields})
    payload: dict[str, Any] = data["updateAgency"]
    return payload


async def test_a_new_agency_has_a_profile_with_defaults(api: Api) -> None:
    profile = (await api.graphql(AGENCY))["agency"]

    assert profile == {
        "name": "Acme",
        "slug": "acme",
        "kind": "SALES_AND_SUPPORT",
        "website": "",
        "timeZone": "UTC",
        "locale": "en",
        "address": {"street": "", "city": "", "postalCode": "", "country": ""},
    }


async def test_an_admin_changes_the_profile_and_the_change_is_audited_and_published(
    api: Api,
) -> None:
    payload = await update(
        api,
        kind="SALES",
        address=LONDON_OFFICE,
        website="https://acme.example.com",
        timeZone="Europe/London",
        locale="en-GB",
    )

    assert payload["errors"] == []
    assert payload["agency"] == {
        "name": "Acme",
        "slug": "acme",
        "kind": "SALES",
        "website": "https://acme.example.com",
        "timeZone": "Europe/London",
        "locale": "en-GB",
        "address": {**LONDON_OFFICE, "country": "GB"},
    }
    agency = await Agency.get(slug="acme")
    [audit] = await AuditEntry.filter(agency_id=agency.id, entity_type="agency", action="update")
    assert audit.before["time_zone"] == "UTC"
    assert audit.after["time_zone"] == "Europe/London"
    assert audit.after["address"]["city"] == "London"
    assert "name" not in audit.after  # only what changed
    [event] = await Event.filter(agency_id=agency.id, type="agency.updated")
    assert event.payload["changes"]["kind"] == "sales"


async def test_fields_left_out_are_unchanged(api: Api) -> None:
    await update(api, website="https://acme.example.com", address=LONDON_OFFICE)

    payload = await update(api, name="Acme Ltd")

    assert payload["agency"]["name"] == "Acme Ltd"
    assert payload["agency"]["website"] == "https://acme.example.com"
    assert payload["agency"]["address"]["city"] == "London"


async def test_bad_values_are_errors_on_their_field_and_change_nothing(api: Api) -> None:
    payload = await update(
        api,
        name="  ",
        timeZone="Mars/Olympus_Mons",
        locale="english please",
        website="javascript:alert(1)",
        address={"country": "GBR"},
    )

    assert payload["agency"] is None
    codes = {error["field"]: error["code"] for error in payload["errors"]}
    assert codes == {
        "name": "REQUIRED",
        "timeZone": "INVALID_TIME_ZONE",
        "locale": "INVALID_LOCALE",
        "website": "INVALID_URL",
        "address.country": "INVALID",
    }
    profile = (await api.graphql(AGENCY))["agency"]
    assert (profile["name"], profile["timeZone"], profile["website"]) == ("Acme", "UTC", "")


async def test_everyone_reads_the_profile_and_only_admins_change_it(api: Api) -> None:
    seller, _ = await colleague(api, Role.SALES_PERSON)

    assert (await seller.graphql(AGENCY))["agency"]["slug"] == "acme"
    payload = await update(seller, website="https://evil.example.com")

    assert payload["errors"][0]["code"] == "FORBIDDEN"
    assert (await api.graphql(AGENCY))["agency"]["website"] == ""


async def test_a_user_has_a_time_zone_of_their_own_or_the_agency_s(api: Api) -> None:
    seller, _ = await colleague(api, Role.SALES_PERSON)
    me = "{ me { id timeZone } }"
    own = (await seller.graphql(me))["me"]
    assert own["timeZone"] is None  # the agency's

    change = """
    mutation($id: ID!, $zone: String) {
      updateUser(input: {id: $id, timeZone: $zone}) { user { timeZone } errors { field code } }
    }"""
    moved = await api.graphql(change, {"id": own["id"], "zone": "Asia/Kolkata"})
    assert moved["updateUser"] == {"user": {"timeZone": "Asia/Kolkata"}, "errors": []}
    refused = await api.graphql(change, {"id": own["id"], "zone": "Nowhere/Else"})
    assert refused["updateUser"]["errors"] == [{"field": "timeZone", "code": "INVALID_TIME_ZONE"}]
    back = await api.graphql(change, {"id": own["id"], "zone": None})
    assert back["updateUser"]["user"]["timeZone"] is None


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
LOGO = "{ agency { id logoId logoPath } }"
SET_LOGO = """mutation($logo: ID) {
  updateAgency(input: {logoId: $logo}) { agency { logoId logoPath } errors { field code } }
}"""


async def upload(api: Api, record_id: str, content: bytes, content_type: str) -> Any:
    return await api.client.post(
        f"/documents?recordId={record_id}&fileName=logo",
        content=content,
        headers=api.headers(**{"content-type": content_type}),
    )


async def test_an_admin_sets_a_logo_that_emails_can_fetch_without_signing_in(api: Api) -> None:
    agency_id = (await api.graphql(LOGO))["agency"]["id"]
    uploaded = await upload(api, agency_id, PNG, "image/png")
    assert uploaded.status_code == 201, uploaded.text
    logo_id = uploaded.json()["document"]["id"]

    changed = (await api.graphql(SET_LOGO, {"logo": logo_id}))["updateAgency"]

    assert changed["errors"] == []
    assert changed["agency"]["logoId"] == logo_id
    path = changed["agency"]["logoPath"]
    fetched = await api.as_(None).client.get(path)
    assert fetched.status_code == 200
    assert fetched.content == PNG
    assert fetched.headers["content-type"] == "image/png"
    assert fetched.headers["x-content-type-options"] == "nosniff"
    # Removed, or its document deleted, the address serves nothing.
    assert (await api.graphql(SET_LOGO, {"logo": None}))["updateAgency"]["errors"] == []
    assert (await api.client.get(path)).status_code == 404
    assert (await api.graphql(SET_LOGO, {"logo": logo_id}))["updateAgency"]["errors"] == []
    deleted = await api.graphql(
        "mutation($id: ID!) { deleteDocument(input: {id: $id}) { errors { code } } }",
        {"id": logo_id},
    )
    assert deleted["deleteDocument"]["errors"] == []
    assert (await api.graphql(LOGO))["agency"]["logoId"] is None
    assert (await api.client.get(path)).status_code == 404


async def test_a_logo_is_an_image_on_the_agency_and_only_admins_set_it(api: Api) -> None:
    agency_id = (await api.graphql(LOGO))["agency"]["id"]
    svg = await upload(api, agency_id, b"<svg onload=alert(1)>", "image/svg+xml")
    text = svg.json()["document"]
    contact_id = await api.created(
        "CreateContactInput", "createContact", "contact", {"firstName": "A"}
    )
    on_contact = (await upload(api, contact_id, PNG, "image/png")).json()["document"]
    rep, _ = await colleague(api, Role.SALES_PERSON)

    for document, code in ((text["id"], "INVALID"), (on_contact["id"], "NOT_FOUND")):
        errors = (await api.graphql(SET_LOGO, {"logo": document}))["updateAgency"]["errors"]
        assert errors == [{"field": "logoId", "code": code}]
    refused = await upload(rep, agency_id, PNG, "image/png")
    assert refused.status_code == 403
    # A document that is not a logo is not public.
    contact_document = relay.GlobalID.from_id(on_contact["id"]).node_id
    assert (await api.as_(None).client.get(f"/logos/{contact_document}")).status_code == 404


UNIT = "orgUnit { name parentId } errors { field code message }"
UPDATE_UNIT = f"""
mutation($input: UpdateOrgUnitInput!) {{ updateOrgUnit(input: $input) {{ {UNIT} }} }}"""
REMOVE_UNIT = f"""mutation($id: ID!) {{ removeOrgUnit(input: {{id: $id}}) {{ {UNIT} }} }}"""


async def test_an_admin_moves_a_unit_with_its_subtree_and_sales_heads_teams_follow(
    api: Api,
) -> None:
    system = await acme_system()
    east = await agencies.create_org_unit(system, "East", None)
    west = await agencies.create_org_unit(system, "West", None)
    team = await agencies.create_org_unit(system, "Team", east.id)
    squad = await agencies.create_org_unit(system, "Squad", team.id)
    head_email = "west.head@acme.example.com"
    await member(head_email, Role.SALES_HEAD, org_unit_id=west.id)
    rep = await member("squad.rep@acme.example.com", Role.SALES_PERSON, org_unit_id=squad.id)
    head = await api.sign_in(head_email, PASSWORD)
    rep_id = str(relay.GlobalID("User", str(rep.id)))
    seen_before = await head.graphql("query($id: ID!) { user(id: $id) { name } }", {"id": rep_id})

    moved = await api.graphql(
        UPDATE_UNIT,
        {
            "input": {
                "id": gid("OrgUnit", team.id),
                "name": "Team West",
                "parentId": gid("OrgUnit", west.id),
            }
        },
    )
    under_itself = await api.graphql(
        UPDATE_UNIT,
        {"input": {"id": gid("OrgUnit", team.id), "parentId": gid("OrgUnit", squad.id)}},
    )
    seen_after = await head.graphql("query($id: ID!) { user(id: $id) { name } }", {"id": rep_id})

    assert moved["updateOrgUnit"] == {
        "orgUnit": {"name": "Team West", "parentId": gid("OrgUnit", west.id)},
        "errors": [],
    }
    assert under_itself["updateOrgUnit"]["errors"][0]["field"] == "parentId"
    assert under_itself["updateOrgUnit"]["errors"][0]["code"] == "INVALID"
    assert (await OrgUnit.get(id=squad.id)).path == f"/{west.id}/{team.id}/{squad.id}/"
    assert seen_before == {"user": None}
    assert seen_after == {"user": {"name": "squad.rep"}}


async def test_a_unit_department_or_designation_in_use_is_not_removed_until_emptied(
    api: Api,
) -> None:
    system = await acme_system()
    parent = await agencies.create_org_unit(system, "Parent", None)
    child = await agencies.create_org_unit(system, "Child", parent.id)
    department = await agencies.create_department(system, "Field Sales")
    designation = await agencies.create_designation(system, "Account Executive")
    holder = await member(
        "member@acme.example.com",
        Role.SALES_PERSON,
        org_unit_id=parent.id,
        department_id=department.id,
        designation_id=designation.id,
    )
    remove_named = """mutation($d: ID!, $g: ID!) {
      removeDepartment(input: {id: $d}) { department { name } errors { field code message } }
      removeDesignation(input: {id: $g}) { designation { name } errors { code } }
    }"""
    ids = {"d": gid("Department", department.id), "g": gid("Designation", designation.id)}

    blocked = await api.graphql(REMOVE_UNIT, {"id": gid("OrgUnit", parent.id)})
    held = await api.graphql(remove_named, ids)
    await users.update_user(
        system, holder.id, {"org_unit_id": None, "department_id": None, "designation_id": None}
    )
    renamed = await api.graphql(
        'mutation($d: ID!) { updateDepartment(input: {id: $d, name: "Inside Sales"}) '
        "{ department { name } errors { code } } }",
        {"d": ids["d"]},
    )
    still_a_child = await api.graphql(REMOVE_UNIT, {"id": gid("OrgUnit", parent.id)})
    removed_child = await api.graphql(REMOVE_UNIT, {"id": gid("OrgUnit", child.id)})
    removed = await api.graphql(REMOVE_UNIT, {"id": gid("OrgUnit", parent.id)})
    emptied = await api.graphql(remove_named, ids)

    assert blocked["removeOrgUnit"]["errors"] == [
        {
            "field": "id",
            "code": "IN_USE",
            "message": "'Parent' still has 1 user and 1 child unit: move them to another unit "
            "first.",
        }
    ]
    assert held["removeDepartment"]["errors"] == [
        {
            "field": "id",
            "code": "IN_USE",
            "message": "'Field Sales' is held by 1 user: change theirs first.",
        }
    ]
    assert held["removeDesignation"]["errors"] == [{"code": "IN_USE"}]
    assert renamed["updateDepartment"] == {"department": {"name": "Inside Sales"}, "errors": []}
    assert still_a_child["removeOrgUnit"]["errors"][0]["message"].endswith(
        "still has 1 child unit: move them to another unit first."
    )
    assert removed_child["removeOrgUnit"]["errors"] == []
    assert removed["removeOrgUnit"] == {
        "orgUnit": {"name": "Parent", "parentId": None},
        "errors": [],
    }
    assert emptied["removeDepartment"]["errors"] == []
    assert emptied["removeDesignation"]["errors"] == []
    assert not await OrgUnit.filter(id=parent.id).exists()
    [audit] = await AuditEntry.filter(
        entity_type="org_unit", entity_id=str(parent.id), action="delete"
    )
    assert audit.before == {"name": "Parent", "parent_id": None}


def gid(type_name: str, value: object) -> str:
    return str(relay.GlobalID(type_name, str(value)))
