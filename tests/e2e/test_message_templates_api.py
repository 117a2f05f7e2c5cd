"""Message templates as an admin and a sales person use them: drafts checked when saved,
published as numbered versions, previewed against a real contact."""

from __future__ import annotations

from typing import Any

from db.agencies import Agency
from db.audit import AuditEntry
from db.message_templates import MessageTemplateVersion
from tests.e2e.conftest import Api

VERSION = "version status subject textBody htmlBody"
TEMPLATE = f"key name kind published {{ {VERSION} }} draft {{ {VERSION} }}"
ERRORS = "errors { field code message }"
CREATE = f"""
mutation($input: CreateMessageTemplateInput!) {{
  createMessageTemplate(input: $input) {{ template {{ {TEMPLATE} }} {ERRORS} }}
}}"""
EDIT = f"""
mutation($input: EditMessageTemplateInput!) {{
  editMessageTemplate(input: $input) {{ template {{ {TEMPLATE} }} {ERRORS} }}
}}"""
PUBLISH = f"""
mutation($key: String!) {{
  publishMessageTemplate(input: {{key: $key}}) {{ template {{ {TEMPLATE} }} {ERRORS} }}
}}"""
PREVIEW = """
query($key: String!, $id: ID!, $version: Int) {
  previewMessageTemplate(key: $key, recordId: $id, version: $version) {
    subject textBody htmlBody
  }
}"""
WELCOME = {
    "key": "welcome",
    "name": "Welcome",
    "kind": "SALES",
    "subject": "Welcome, {{ recipient.first_name }}",
    "textBody": "Hello {{ recipient.full_name }},\n{{ owner.name }}, {{ agency.name }}",
    "htmlBody": "<p>Hello <b>{{ recipient.first_name }}</b></p><script>steal()</script>",
}


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.graphql(CREATE, {"input": {**WELCOME, **fields}}))[
        "createMessageTemplate"
    ]
    return payload


async def edit(api: Api, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.graphql(EDIT, {"input": fields}))["editMessageTemplate"]
    return payload


async def publish(api: Api, key: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await api.graphql(PUBLISH, {"key": key}))["publishMessageTemplate"]
    return payload


async def contact(api: Api, first_name: str) -> str:
    return await api.created(
        "CreateContactInput",
        "createContact",
        "contact",
        {"firstName": first_name, "lastName": "Lovelace", "emails": ["ada@example.com"]},
    )


async def test_a_draft_is_published_as_numbered_versions(api: Api) -> None:
    created = await create(api)
    assert created["errors"] == []
    template = created["template"]
    assert (template["published"], template["draft"]["status"]) == (None, "DRAFT")
    assert "<script" not in template["draft"]["htmlBody"]  # sanitised when saved

    first = (await publish(api, "welcome"))["template"]
    assert (first["published"]["version"], first["draft"]) == (1, None)

    edited = (await edit(api, key="welcome", subject="Hi {{ recipient.first_name }}"))["template"]
    assert edited["published"]["subject"] == "Welcome, {{ recipient.first_name }}"
    assert edited["draft"]["subject"] == "Hi {{ recipient.first_name }}"
    assert edited["draft"]["textBody"] == WELCOME["textBody"]  # the rest comes from v1

    second = (await publish(api, "welcome"))["template"]
    assert second["published"]["version"] == 2
    statuses = (
        await MessageTemplateVersion.all().order_by("version").values_list("version", "status")
    )
    assert statuses == [(1, "archived"), (2, "published")]
    listed = await api.graphql("{ messageTemplates { key published { version } } }")
    assert listed["messageTemplates"] == [{"key": "welcome", "published": {"version": 2}}]

    agency = await Agency.get(slug="acme")
    actions = await AuditEntry.filter(
        agency_id=agency.id, entity_type="message_template"
    ).values_list("action", flat=True)
    assert sorted(str(action) for action in actions) == ["create", "update", "update", "update"]


async def test_a_draft_with_a_mistake_is_not_saved_and_says_where(api: Api) -> None:
    payload = await create(
        api,
        subject="Hi {{ recipient.nickname }}",
        textBody="Hello\n{% if recipient.first_name %}\nno end",
        htmlBody="<p>{{ ''.__class__.__mro__ }}</p>",
    )

    assert payload["template"] is None
    errors = {error["field"]: error for error in payload["errors"]}
    assert set(errors) == {"subject", "textBody", "htmlBody"}
    assert all(error["code"] == "INVALID_TEMPLATE" for error in errors.values())
    assert "recipient has no 'nickname'" in errors["subject"]["message"]
    assert errors["textBody"]["message"].startswith("Line 2:")
    assert await MessageTemplateVersion.all().count() == 0


async def test_keys_are_unique_and_well_formed(api: Api) -> None:
    await create(api)

    taken = await create(api)
    malformed = await create(api, key="Welcome Mail!")

    assert [e["code"] for e in taken["errors"]] == ["KEY_TAKEN"]
    assert [(e["field"], e["code"]) for e in malformed["errors"]] == [("key", "INVALID")]


async def test_publishing_needs_a_draft(api: Api) -> None:
    await create(api)
    await publish(api, "welcome")

    again = await publish(api, "welcome")

    assert [e["code"] for e in again["errors"]] == ["NO_DRAFT"]


async def test_a_preview_renders_for_a_real_contact_and_escapes_its_data(api: Api) -> None:
    await create(api)
    await publish(api, "welcome")
    await api.graphql('mutation { updateAgency(input: {name: "Acme & Co"}) { errors { code } } }')
    ada = await contact(api, "<script>alert(1)</script>")

    rendered = (await api.graphql(PREVIEW, {"key": "welcome", "id": ada}))["previewMessageTemplate"]

    assert rendered["subject"] == "Welcome, <script>alert(1)</script>"  # a header: plain text
    assert rendered["textBody"] == (
        "Hello <script>alert(1)</script> Lovelace,\nAda Admin, Acme & Co"
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered["htmlBody"]
    assert "<script>" not in rendered["htmlBody"]


async def test_a_preview_of_an_old_version_or_a_missing_one(api: Api) -> None:
    await create(api)
    await publish(api, "welcome")
    await edit(api, key="welcome", subject="Second {{ recipient.first_name }}")
    await publish(api, "welcome")
    ada = await contact(api, "Ada")

    old = await api.graphql(PREVIEW, {"key": "welcome", "id": ada, "version": 1})
    response = await api.post(
        {"query": PREVIEW, "variables": {"key": "welcome", "id": ada, "version": 9}}
    )

    assert old["previewMessageTemplate"]["subject"] == "Welcome, Ada"
    assert response.json()["errors"][0]["extensions"]["code"] == "VERSION_NOT_FOUND"


async def test_a_preview_for_a_customer_uses_its_name(api: Api) -> None:
    await create(api, htmlBody="")
    globex = await api.created(
        "CreateCustomerInput", "createCustomer", "customer", {"name": "Globex"}
    )

    rendered = (await api.graphql(PREVIEW, {"key": "welcome", "id": globex}))[
        "previewMessageTemplate"
    ]

    assert rendered == {
        "subject": "Welcome, Globex",
        "textBody": "Hello Globex,\nAda Admin, Acme",
        "htmlBody": "",
    }


async def test_renaming_a_published_template_makes_no_draft(api: Api) -> None:
    await create(api)
    await publish(api, "welcome")

    renamed = (await edit(api, key="welcome", name="Welcome aboard", kind="TRANSACTIONAL"))[
        "template"
    ]

    assert (renamed["name"], renamed["kind"], renamed["draft"]) == (
        "Welcome aboard",
        "TRANSACTIONAL",
        None,
    )
    assert renamed["published"]["version"] == 1
