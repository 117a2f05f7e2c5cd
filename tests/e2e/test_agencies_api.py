"""The agency's profile as a client app uses it: everyone reads it, admins change it (audited,
as an event), bad values are typed errors on their field, and users get their own time zone."""

from __future__ import annotations

from typing import Any

from db.agencies import Agency
from db.audit import AuditEntry
from db.events import Event
from domain.roles import Role
from tests.e2e.colleagues import colleague
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
