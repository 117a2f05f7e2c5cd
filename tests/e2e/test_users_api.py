"""People and their work through the API: each person edits their own profile (name, phone,
picture, time zone), and a deactivated user's open work moves to a successor (the one chosen,
else their manager, else the nearest Sales Head up their unit) while closed work stays theirs."""

from __future__ import annotations

import uuid
from typing import Any

from strawberry import relay

from db.audit import AuditEntry
from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.deals import Deal
from db.leads import Lead
from db.sessions import Session
from db.users import User
from domain import agencies, calling_tasks, contacts, deals, leads
from domain.roles import Role
from tests.e2e.colleagues import PASSWORD, acme_system, colleague, member
from tests.e2e.conftest import ADMIN_EMAIL, Api
from tests.e2e.test_agencies_api import PNG, upload

PROFILE = "name phone timeZone pictureId"
UPDATE_PROFILE = f"""
mutation($input: UpdateMyProfileInput!) {{
  updateMyProfile(input: $input) {{ user {{ {PROFILE} }} errors {{ field code }} }}
}}"""
DEACTIVATE = """
mutation($id: ID!, $to: ID) {
  updateUser(input: {id: $id, isActive: false, reassignToId: $to}) {
    user { isActive } errors { field code message }
  }
}"""


def gid(type_name: str, value: uuid.UUID) -> str:
    return str(relay.GlobalID(type_name, str(value)))


async def my_profile(person: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await person.graphql(UPDATE_PROFILE, {"input": fields}))[
        "updateMyProfile"
    ]
    return payload


async def test_a_person_edits_their_own_profile_and_picture(api: Api) -> None:
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    _, other_id = await colleague(api, Role.SALES_PERSON)
    picture = (await upload(rep, gid("User", rep_id), PNG, "image/png")).json()["document"]["id"]
    not_an_image = (await upload(rep, gid("User", rep_id), b"%PDF-1.4", "application/pdf")).json()
    on_a_colleague = await upload(rep, gid("User", other_id), PNG, "image/png")

    changed = await my_profile(
        rep, name="Rita Rep", phone="+44 20 7946 0000", timeZone="Europe/London", pictureId=picture
    )
    bad = [
        await my_profile(rep, phone="12"),
        await my_profile(rep, timeZone="Mars/Olympus"),
        await my_profile(rep, name=" "),
        await my_profile(rep, pictureId=not_an_image["document"]["id"]),
    ]
    cleared = await my_profile(rep, phone="", pictureId=None)

    assert changed == {
        "user": {
            "name": "Rita Rep",
            "phone": "+442079460000",
            "timeZone": "Europe/London",
            "pictureId": picture,
        },
        "errors": [],
    }
    assert [payload["errors"] for payload in bad] == [
        [{"field": "phone", "code": "INVALID_PHONE"}],
        [{"field": "timeZone", "code": "INVALID_TIME_ZONE"}],
        [{"field": "name", "code": "REQUIRED"}],
        [{"field": "pictureId", "code": "INVALID"}],
    ]
    assert on_a_colleague.status_code == 403
    assert cleared["user"] == {
        "name": "Rita Rep",
        "phone": "",
        "timeZone": "Europe/London",
        "pictureId": None,
    }
    audits = await AuditEntry.filter(entity_id=str(rep_id), action="update").order_by("id")
    assert audits[0].after == {
        "name": "Rita Rep",
        "phone": "+442079460000",
        "time_zone": "Europe/London",
        "picture_id": relay.GlobalID.from_id(picture).node_id,
    }
    key = await api.graphql(
        'mutation { createApiKey(input: {name: "k", scopes: [READ, WRITE]}) { secret } }'
    )
    by_key = await my_profile(api.as_(key["createApiKey"]["secret"]), name="Robot")
    assert by_key["errors"] == [{"field": None, "code": "FORBIDDEN"}]


async def work_of(owner: uuid.UUID) -> dict[str, uuid.UUID]:
    """An open and a closed piece of each kind of work, owned by `owner`."""
    system = await acme_system()
    contact = await contacts.create_contact(system, {"first_name": "Open", "owner_id": owner})
    task = await calling_tasks.create_calling_task(
        system, {"subject": "Call", "contact_id": contact.id, "assignee_id": owner}
    )
    lead = await leads.create_lead(system, {"title": "Lead", "owner_id": owner})
    deal = await deals.create_deal(
        system, {"name": "Deal", "expected_close_date": "2030-01-01", "owner_id": owner}
    )
    won = await deals.create_deal(
        system, {"name": "Won", "expected_close_date": "2030-01-01", "owner_id": owner}
    )
    await Deal.filter(id=won.id).update(status="won")  # closed: history stays with its owner
    return {"contact": contact.id, "task": task.id, "lead": lead.id, "deal": deal.id, "won": won.id}


async def owners(work: dict[str, uuid.UUID]) -> dict[str, uuid.UUID | None]:
    return {
        "contact": (await Contact.get(id=work["contact"])).owner_id,
        "task": (await CallingTask.get(id=work["task"])).assignee_id,
        "lead": (await Lead.get(id=work["lead"])).owner_id,
        "deal": (await Deal.get(id=work["deal"])).owner_id,
        "won": (await Deal.get(id=work["won"])).owner_id,
    }


async def test_a_deactivated_users_open_work_goes_to_the_chosen_their_manager_or_unit_head(
    api: Api,
) -> None:
    system = await acme_system()
    north = await agencies.create_org_unit(system, "North", None)
    head = await member("head@acme.example.com", Role.SALES_HEAD, org_unit_id=north.id)
    rep = await member("rep@acme.example.com", Role.SALES_PERSON, org_unit_id=north.id)
    await api.sign_in(rep.email, PASSWORD)
    work = await work_of(rep.id)
    _, chosen = await colleague(api, Role.SALES_PERSON)

    refused = await api.graphql(DEACTIVATE, {"id": gid("User", rep.id), "to": gid("User", rep.id)})
    assert refused["updateUser"]["errors"][0]["field"] == "reassignToId"
    done = await api.graphql(DEACTIVATE, {"id": gid("User", rep.id)})

    assert done["updateUser"] == {"user": {"isActive": False}, "errors": []}
    # No manager set: the Sales Head of their unit takes the open work; the won deal stays.
    assert await owners(work) == {
        "contact": head.id,
        "task": head.id,
        "lead": head.id,
        "deal": head.id,
        "won": rep.id,
    }
    assert not await Session.filter(user_id=rep.id, revoked_at__isnull=True).exists()
    moved = await AuditEntry.filter(
        entity_type="deal", entity_id=str(work["deal"]), action="update"
    ).first()
    assert moved is not None
    assert (moved.before, moved.after) == ({"owner_id": str(rep.id)}, {"owner_id": str(head.id)})

    # Someone chosen by the admin comes before anyone else.
    second = await member("second@acme.example.com", Role.SALES_PERSON, manager_id=head.id)
    more = await work_of(second.id)
    await api.graphql(DEACTIVATE, {"id": gid("User", second.id), "to": gid("User", chosen)})
    assert set((await owners(more)).values()) == {chosen, second.id}
    assert (await owners(more))["won"] == second.id
    assert (await User.get(id=second.id)).is_active is False

    # Without a choice, an active manager comes before the unit's head.
    third = await member(
        "third@acme.example.com", Role.SALES_PERSON, org_unit_id=north.id, manager_id=chosen
    )
    rest = await work_of(third.id)
    await api.graphql(DEACTIVATE, {"id": gid("User", third.id)})
    assert set((await owners(rest)).values()) == {chosen, third.id}

    # An admin leaving with nobody above them leaves their open work unowned, never their own.
    admin = await User.get(email=ADMIN_EMAIL)
    own = await contacts.create_contact(system, {"first_name": "Mine", "owner_id": admin.id})
    await api.graphql(DEACTIVATE, {"id": gid("User", admin.id)})
    assert (await Contact.get(id=own.id)).owner_id is None
