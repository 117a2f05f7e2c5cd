"""Webhook endpoints through the API, as an admin manages them (delivery itself is tested in
tests/integration/test_webhook_delivery.py, against Temporal and a real receiver)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import Api, make_settings, open_api

ENDPOINT_FIELDS = "id url description eventTypes active consecutiveFailures disabledReason"
CREATE = f"""
mutation Create($input: CreateWebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{
    webhookEndpoint {{ {ENDPOINT_FIELDS} }} secret errors {{ field code message }}
  }}
}}"""
UPDATE = f"""
mutation Update($input: UpdateWebhookEndpointInput!) {{
  updateWebhookEndpoint(input: $input) {{
    webhookEndpoint {{ {ENDPOINT_FIELDS} }} errors {{ field code message }}
  }}
}}"""
ROTATE = """
mutation Rotate($id: ID!) {
  rotateWebhookSecret(input: {id: $id}) { secret errors { code } }
}"""
DELETE = """
mutation Delete($id: ID!) {
  deleteWebhookEndpoint(input: {id: $id}) { webhookEndpoint { id } errors { code } }
}"""
DELIVERIES = """
query Deliveries($filter: WebhookDeliveryFilter) {
  webhookDeliveries(first: 10, filter: $filter) {
    edges { node { id endpointId eventId eventType status attempts lastResponseCode } }
  }
}"""
REDELIVER = """
mutation Redeliver($id: ID!) {
  redeliverWebhookDelivery(input: {id: $id}) { webhookDelivery { id } errors { code } }
}"""
PUBLIC_URL = "https://93.184.216.34/crm-events"  # an address literal: nothing to resolve


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    data = await api.graphql(CREATE, {"input": {"eventTypes": ["contact.*"], **fields}})
    payload: dict[str, Any] = data["createWebhookEndpoint"]
    return payload


async def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(api: Api) -> None:
    created = await create(api, url=PUBLIC_URL, description="ERP sync")
    assert created["errors"] == []
    assert created["secret"].startswith("whsec_")
    endpoint = created["webhookEndpoint"]
    assert (endpoint["url"], endpoint["eventTypes"], endpoint["active"]) == (
        PUBLIC_URL,
        ["contact.*"],
        True,
    )
    # The secret is nowhere to be read again: the type has no such field.
    fields = await api.graphql('{ __type(name: "WebhookEndpoint") { fields { name } } }')
    assert "secret" not in {f["name"] for f in fields["__type"]["fields"]}
    listed = await api.graphql("{ webhookEndpoints { id url } }")
    assert listed["webhookEndpoints"] == [{"id": endpoint["id"], "url": PUBLIC_URL}]

    rotated = (await api.graphql(ROTATE, {"id": endpoint["id"]}))["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]


async def test_changes_write_deliveries_that_the_admin_can_list(api: Api) -> None:
    endpoint = (await create(api, url=PUBLIC_URL))["webhookEndpoint"]
    await api.graphql('mutation { createContact(input: {firstName: "Ada"}) { errors { code } } }')
    data = await api.graphql(DELIVERIES, {"filter": {"endpointId": endpoint["id"]}})
    [delivery] = [edge["node"] for edge in data["webhookDeliveries"]["edges"]]
    assert (delivery["endpointId"], delivery["eventType"], delivery["status"]) == (
        endpoint["id"],
        "contact.created",
        "PENDING",
    )
    # Still on its way: nothing to redeliver yet.
    again = (await api.graphql(REDELIVER, {"id": delivery["id"]}))["redeliverWebhookDelivery"]
    assert again["errors"] == [{"code": "NOT_FINISHED"}]


async def test_private_and_malformed_targets_are_refused(api: Api) -> None:
    for url, code in (
        ("http://127.0.0.1:8080/hook", "TARGET_NOT_ALLOWED"),
        ("http://10.0.0.7/hook", "TARGET_NOT_ALLOWED"),
        ("http://169.254.169.254/latest/meta-data", "TARGET_NOT_ALLOWED"),
        ("ftp://93.184.216.34/hook", "INVALID_URL"),
        ("https://user:password@93.184.216.34/hook", "INVALID_URL"),
    ):
        refused = await create(api, url=url)
        assert refused["errors"] == [
            {"field": "url", "code": code, "message": refused["errors"][0]["message"]}
        ], url
    bad_types = await create(api, url=PUBLIC_URL, eventTypes=["Contact Created"])
    assert [e["field"] for e in bad_types["errors"]] == ["eventTypes.0"]


async def test_private_targets_are_allowed_when_settings_say_so(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, webhook_allow_private_targets=True)
    async with open_api(settings) as api:
        created = await create(api, url="http://127.0.0.1:8080/hook")
    assert created["errors"] == []


async def test_an_admin_changes_and_deletes_an_endpoint(api: Api) -> None:
    endpoint = (await create(api, url=PUBLIC_URL))["webhookEndpoint"]
    changes = {"id": endpoint["id"], "eventTypes": ["*"], "active": False}
    updated = (await api.graphql(UPDATE, {"input": changes}))["updateWebhookEndpoint"]
    assert updated["errors"] == []
    assert (updated["webhookEndpoint"]["eventTypes"], updated["webhookEndpoint"]["active"]) == (
        ["*"],
        False,
    )
    deleted = (await api.graphql(DELETE, {"id": endpoint["id"]}))["deleteWebhookEndpoint"]
    assert deleted["errors"] == []
    assert (await api.graphql("{ webhookEndpoints { id } }"))["webhookEndpoints"] == []
    audit = await api.graphql(
        '{ auditEntries(first: 10, filter: {entityType: "webhook_endpoint"}) '
        "{ edges { node { action } } } }"
    )
    actions = [edge["node"]["action"] for edge in audit["auditEntries"]["edges"]]
    assert sorted(actions) == ["create", "delete", "update"]
