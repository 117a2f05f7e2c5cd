"""Managing flows over GraphQL: draft, edit, validate, publish, roll back; and who may."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from crm.flow_files import load_default_flows
from db.users import User
from domain import users
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.flows.service import seed_default_flows
from domain.roles import Role
from tests.e2e.conftest import ADMIN_EMAIL, Api
from tests.fixtures.sales_flows import LEAD_FOLLOW_UP, STALLED_DEAL

DEFAULT_FLOWS = Path(__file__).resolve().parents[2] / "temporal.yaml"
NURTURE = "contact-nurture"
PASSWORD = "long enough password"
ERRORS = "errors { field code message }"
VERSION = "version { number status basedOn publishedAt document }"

FLOWS = "{ flows { key name publishedVersion hasDraft } }"
FLOW = """query($key: String!) {
  flow(key: $key) { key publishedVersion hasDraft versions { number status publishedAt document } }
}"""
CREATE_DRAFT = f"""mutation($key: String!) {{
  createFlowDraft(input: {{key: $key}}) {{ {VERSION} {ERRORS} }}
}}"""
UPDATE_DRAFT = f"""mutation($key: String!, $document: JSON!) {{
  updateFlowDraft(input: {{key: $key, document: $document}}) {{ {VERSION} {ERRORS} }}
}}"""
VALIDATE = f"""mutation($document: JSON!) {{
  validateFlowDefinition(input: {{document: $document}}) {{ valid {ERRORS} }}
}}"""
PUBLISH = f"""mutation($key: String!) {{
  publishFlowDraft(input: {{key: $key}}) {{ {VERSION} {ERRORS} }}
}}"""
ROLLBACK = f"""mutation($key: String!, $version: Int!) {{
  rollbackFlow(input: {{key: $key, version: $version}}) {{ {VERSION} {ERRORS} }}
}}"""


async def seed_flows(agency_id: Any) -> None:
    await seed_default_flows(agency_id, load_default_flows(DEFAULT_FLOWS))


async def acme_with_flows(api: Api) -> Actor:
    """The defaults published for agency Acme; its system actor."""
    admin = await User.get(email=ADMIN_EMAIL)
    await seed_flows(admin.agency_id)
    return Actor.system(admin.agency_id, "test")


async def sign_in_as(api: Api, system: Actor, name: str, role: Role) -> Api:
    email = f"{name}@acme.example.com"
    await users.create_user(
        system, {"email": email, "name": name, "password": PASSWORD, "roles": [role]}
    )
    return await api.sign_in(email, PASSWORD)


def step(document: dict[str, Any], step_id: str) -> tuple[int, dict[str, Any]]:
    index, found = next((i, s) for i, s in enumerate(document["steps"]) if s["id"] == step_id)
    return index, found


async def versions_of(api: Api, key: str) -> list[dict[str, Any]]:
    data = await api.graphql(FLOW, {"key": key})
    versions: list[dict[str, Any]] = data["flow"]["versions"]
    return versions


async def test_a_sysadmin_changes_a_wait_and_publishes_a_new_version(api: Api) -> None:
    system = await acme_with_flows(api)
    sysadmin = await sign_in_as(api, system, "sam", Role.SYSADMIN)
    listed = (await sysadmin.graphql(FLOWS))["flows"]
    assert {
        "key": NURTURE,
        "name": "Contact nurture",
        "publishedVersion": 1,
        "hasDraft": False,
    } in (listed)
    original = (await versions_of(sysadmin, NURTURE))[0]
    assert (original["number"], original["status"]) == (1, "PUBLISHED")

    draft = (await sysadmin.graphql(CREATE_DRAFT, {"key": NURTURE}))["createFlowDraft"]
    assert draft["errors"] == []
    assert (draft["version"]["number"], draft["version"]["status"]) == (None, "DRAFT")
    assert draft["version"]["basedOn"] == 1
    document = copy.deepcopy(draft["version"]["document"])
    index, wait = step(document, "wait-after-day-3")
    assert wait["timeout"] == "4d"
    wait["timeout"] = "2d"

    updated = await sysadmin.graphql(UPDATE_DRAFT, {"key": NURTURE, "document": document})
    assert updated["updateFlowDraft"]["errors"] == []
    checked = await sysadmin.graphql(VALIDATE, {"document": document})
    assert checked["validateFlowDefinition"] == {"valid": True, "errors": []}
    assert (await sysadmin.graphql(FLOW, {"key": NURTURE}))["flow"]["hasDraft"] is True

    published = (await sysadmin.graphql(PUBLISH, {"key": NURTURE}))["publishFlowDraft"]
    assert published["errors"] == []
    assert (published["version"]["number"], published["version"]["status"]) == (2, "PUBLISHED")
    assert published["version"]["publishedAt"] is not None

    versions = await versions_of(sysadmin, NURTURE)
    assert [(v["number"], v["status"]) for v in versions] == [(2, "PUBLISHED"), (1, "ARCHIVED")]
    assert versions[0]["document"]["steps"][index]["timeout"] == "2d"
    # The earlier version is still readable, and exactly as it was.
    assert versions[1]["document"] == original["document"]
    assert versions[1]["publishedAt"] == original["publishedAt"]
    flow = (await sysadmin.graphql(FLOW, {"key": NURTURE}))["flow"]
    assert (flow["publishedVersion"], flow["hasDraft"]) == (2, False)


async def test_invalid_definitions_come_back_with_step_paths_and_nothing_is_published(
    api: Api,
) -> None:
    system = await acme_with_flows(api)
    sysadmin = await sign_in_as(api, system, "sam", Role.SYSADMIN)
    draft = (await sysadmin.graphql(CREATE_DRAFT, {"key": NURTURE}))["createFlowDraft"]
    document = copy.deepcopy(draft["version"]["document"])
    wait_index, _ = step(document, "wait-after-day-3")
    bad_duration = copy.deepcopy(document)
    bad_duration["steps"][wait_index]["timeout"] = "soon"
    checked = (await sysadmin.graphql(VALIDATE, {"document": bad_duration}))[
        "validateFlowDefinition"
    ]
    assert checked["valid"] is False
    assert [(e["field"], e["code"]) for e in checked["errors"]] == [
        (f"steps[{wait_index}].timeout", "INVALID_DEFINITION")
    ]

    # The step graph is checked too (once the shape is right): a jump to a step that is not.
    signal_index, signal = step(document, "wait-for-interest")
    signal["on_timeout"] = "nowhere"
    checked = (await sysadmin.graphql(VALIDATE, {"document": document}))["validateFlowDefinition"]
    assert checked["valid"] is False
    fields = {e["field"] for e in checked["errors"]}
    assert f"steps[{signal_index}].on_timeout" in fields, checked["errors"]
    assert {e["code"] for e in checked["errors"]} == {"INVALID_DEFINITION"}

    # A draft may hold problems; publishing it reports the same paths and changes nothing.
    updated = await sysadmin.graphql(UPDATE_DRAFT, {"key": NURTURE, "document": document})
    assert updated["updateFlowDraft"]["errors"] == []
    refused = (await sysadmin.graphql(PUBLISH, {"key": NURTURE}))["publishFlowDraft"]
    assert refused["version"] is None
    assert {e["field"] for e in refused["errors"]} == fields
    versions = await versions_of(sysadmin, NURTURE)
    assert [(v["number"], v["status"]) for v in versions] == [(None, "DRAFT"), (1, "PUBLISHED")]


async def test_bad_stop_conditions_come_back_at_their_path(api: Api) -> None:
    system = await acme_with_flows(api)
    sysadmin = await sign_in_as(api, system, "sam", Role.SYSADMIN)
    draft = (await sysadmin.graphql(CREATE_DRAFT, {"key": NURTURE}))["createFlowDraft"]
    document = copy.deepcopy(draft["version"]["document"])
    assert document["stop_when"] == [
        "replied",
        "converted",
        "not_interested",
        "unsubscribed",
        "calling_task_done",
    ]

    unknown = {**document, "stop_when": ["replied", "bored"]}
    checked = (await sysadmin.graphql(VALIDATE, {"document": unknown}))["validateFlowDefinition"]
    on_a_customer = {
        "key": "welcome-customer",
        "name": "Welcome customer",
        "record_type": "customer",
        "trigger": {"event": "customer.created"},
        "stop_when": ["replied"],
        "steps": [{"id": "pause", "type": "wait", "duration": "1d"}],
    }
    refused = (await sysadmin.graphql(VALIDATE, {"document": on_a_customer}))[
        "validateFlowDefinition"
    ]

    assert checked["valid"] is False
    assert [(e["field"], e["code"]) for e in checked["errors"]] == [
        ("stop_when[1]", "INVALID_DEFINITION")
    ]
    assert "unknown stop condition" in checked["errors"][0]["message"]
    assert refused["valid"] is False
    assert [e["field"] for e in refused["errors"]] == ["stop_when"]
    assert "about a contact" in refused["errors"][0]["message"]


async def test_rolling_back_publishes_a_copy_of_the_earlier_version(api: Api) -> None:
    """The admin (the `api` caller) manages flows too."""
    await acme_with_flows(api)
    draft = (await api.graphql(CREATE_DRAFT, {"key": NURTURE}))["createFlowDraft"]
    document = copy.deepcopy(draft["version"]["document"])
    step(document, "wait-after-day-3")[1]["timeout"] = "1w"
    await api.graphql(UPDATE_DRAFT, {"key": NURTURE, "document": document})
    assert (await api.graphql(PUBLISH, {"key": NURTURE}))["publishFlowDraft"]["errors"] == []

    rolled = (await api.graphql(ROLLBACK, {"key": NURTURE, "version": 1}))["rollbackFlow"]
    assert rolled["errors"] == []
    assert (rolled["version"]["number"], rolled["version"]["basedOn"]) == (3, 1)
    versions = await versions_of(api, NURTURE)
    assert [(v["number"], v["status"]) for v in versions] == [
        (3, "PUBLISHED"),
        (2, "ARCHIVED"),
        (1, "ARCHIVED"),
    ]
    assert {**versions[2]["document"], "version": 3} == versions[0]["document"]
    missing = (await api.graphql(ROLLBACK, {"key": NURTURE, "version": 9}))["rollbackFlow"]
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [
        ("version", "VERSION_NOT_FOUND")
    ]


async def test_a_sales_person_is_forbidden(api: Api) -> None:
    system = await acme_with_flows(api)
    sales = await sign_in_as(api, system, "sally", Role.SALES_PERSON)
    response = (await sales.post({"query": FLOWS})).json()
    assert response["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    created = await sales.graphql(CREATE_DRAFT, {"key": NURTURE})
    assert [e["code"] for e in created["createFlowDraft"]["errors"]] == ["FORBIDDEN"]
    versions = await versions_of(api, NURTURE)
    assert [v["status"] for v in versions] == ["PUBLISHED"]


async def test_another_agency_cannot_see_the_flows(api: Api) -> None:
    await acme_with_flows(api)
    agency, _, _ = await bootstrap_agency("Bolt", "bolt", "admin@bolt.example.com", "Bo", PASSWORD)
    bolt = await api.sign_in("admin@bolt.example.com", PASSWORD)
    assert (await bolt.graphql(FLOWS))["flows"] == []
    assert (await bolt.graphql(FLOW, {"key": NURTURE}))["flow"] is None
    refused = (await bolt.graphql(CREATE_DRAFT, {"key": NURTURE}))["createFlowDraft"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]
    # Its own defaults are its own: publishing there leaves Acme's untouched.
    await seed_flows(agency.id)
    assert [f["publishedVersion"] for f in (await bolt.graphql(FLOWS))["flows"]] == [1, 1, 1, 1]
    draft = (await bolt.graphql(CREATE_DRAFT, {"key": NURTURE}))["createFlowDraft"]
    assert draft["errors"] == []
    assert (await api.graphql(FLOW, {"key": NURTURE}))["flow"]["hasDraft"] is False


CREATE_FLOW = f"""mutation($document: JSON!) {{
  createFlow(input: {{document: $document}}) {{ {VERSION} {ERRORS} }}
}}"""
LEAD_RUNS = """query($id: ID!) { flowRuns(recordId: $id) { flowKey version status } }"""


async def test_a_sysadmin_creates_a_flow_on_leads_and_new_leads_run_it(api: Api) -> None:
    system = await acme_with_flows(api)
    sysadmin = await sign_in_as(api, system, "sam", Role.SYSADMIN)

    created = (await sysadmin.graphql(CREATE_FLOW, {"document": LEAD_FOLLOW_UP}))["createFlow"]
    assert created["errors"] == []
    assert (created["version"]["number"], created["version"]["status"]) == (None, "DRAFT")
    again = (await sysadmin.graphql(CREATE_FLOW, {"document": LEAD_FOLLOW_UP}))["createFlow"]
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("key", "KEY_TAKEN")]
    published = (await sysadmin.graphql(PUBLISH, {"key": "lead-follow-up"}))["publishFlowDraft"]
    assert published["errors"] == []

    lead = await api.created(
        "CreateLeadInput", "createLead", "lead", {"title": "Engines", "services": ["install"]}
    )
    runs = (await api.graphql(LEAD_RUNS, {"id": lead}))["flowRuns"]
    assert runs == [{"flowKey": "lead-follow-up", "version": 1, "status": "PENDING"}]


async def test_a_deal_flow_that_would_change_the_deal_status_is_refused_at_its_step(
    api: Api,
) -> None:
    await acme_with_flows(api)
    document = copy.deepcopy(STALLED_DEAL)
    document["steps"][1] = {"id": "tell-owner", "type": "transition", "event": "lose"}

    checked = (await api.graphql(VALIDATE, {"document": document}))["validateFlowDefinition"]

    assert checked["valid"] is False
    assert [(e["field"], e["code"]) for e in checked["errors"]] == [
        ("steps[1].event", "INVALID_DEFINITION")
    ]
    assert "flows change no deal status" in checked["errors"][0]["message"]


# The loose arguments these mutations took before they took one `input`: deprecated, working.
LOOSE = {
    "createFlowDraft": f"mutation($key: String!) {{ createFlowDraft(key: $key) {{ {VERSION} "
    f"{ERRORS} }} }}",
    "updateFlowDraft": "mutation($key: String!, $document: JSON!) { updateFlowDraft(key: $key, "
    f"document: $document) {{ {VERSION} {ERRORS} }} }}",
    "validateFlowDefinition": "mutation($document: JSON!) { validateFlowDefinition(document: "
    f"$document) {{ valid {ERRORS} }} }}",
    "publishFlowDraft": f"mutation($key: String!) {{ publishFlowDraft(key: $key) {{ {VERSION} "
    f"{ERRORS} }} }}",
    "rollbackFlow": "mutation($key: String!, $version: Int!) { rollbackFlow(key: $key, "
    f"version: $version) {{ {VERSION} {ERRORS} }} }}",
    "cancelFlowRun": f'mutation {{ cancelFlowRun(id: "Rmxvd1J1bjo5OTk=") {{ {ERRORS} }} }}',
}
DEPRECATED_ARGUMENTS = """{ __type(name: "Mutation") {
  fields { name args(includeDeprecated: true) { name isDeprecated } } } }"""


async def test_the_loose_arguments_still_work_and_are_deprecated(api: Api) -> None:
    await acme_with_flows(api)

    async def loose(name: str, **variables: Any) -> dict[str, Any]:
        payload: dict[str, Any] = (await api.graphql(LOOSE[name], variables))[name]
        assert payload["errors"] == [] or name == "cancelFlowRun", payload["errors"]
        return payload

    draft = await loose("createFlowDraft", key=NURTURE)
    document = copy.deepcopy(draft["version"]["document"])
    step(document, "wait-after-day-3")[1]["timeout"] = "1w"
    await loose("updateFlowDraft", key=NURTURE, document=document)
    assert (await loose("validateFlowDefinition", document=document))["valid"] is True
    assert (await loose("publishFlowDraft", key=NURTURE))["version"]["number"] == 2
    assert (await loose("rollbackFlow", key=NURTURE, version=1))["version"]["basedOn"] == 1
    cancelled = await loose("cancelFlowRun")
    assert [(e["field"], e["code"]) for e in cancelled["errors"]] == [("id", "NOT_FOUND")]

    fields = (await api.graphql(DEPRECATED_ARGUMENTS))["__type"]["fields"]
    arguments = {f["name"]: {a["name"]: a["isDeprecated"] for a in f["args"]} for f in fields}
    assert arguments["updateFlowDraft"] == {"input": False, "key": True, "document": True}
    assert arguments["rollbackFlow"] == {"input": False, "key": True, "version": True}
    assert arguments["cancelBroadcast"] == {"input": False, "id": True}
    assert arguments["setNotificationChannels"] == {"input": False, "channels": True}


async def test_a_mutation_takes_its_input_or_its_loose_arguments_not_both_nor_neither(
    api: Api,
) -> None:
    await acme_with_flows(api)
    both = await api.post(
        {"query": f'mutation {{ publishFlowDraft(input: {{key: "a"}}, key: "a") {{ {ERRORS} }} }}'}
    )
    neither = await api.post({"query": f'mutation {{ updateFlowDraft(key: "a") {{ {ERRORS} }} }}'})

    for response in (both, neither):
        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert "takes `input`" in error["message"]
        assert "Internal" not in error["message"]
