"""Privacy requests: an admin exports everything held about a contact as one archive, and
erases a contact so that no table and no stored file holds their data afterwards."""

from __future__ import annotations

import io
import json
import zipfile
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
from strawberry import relay
from tortoise import connections

from crm.inbound_smtp import InboundHandler, InboundLimits, start_server
from crm.settings import Settings
from db.audit import AuditEntry
from db.contacts import Contact
from db.event_signals import is_postgres
from db.events import Event
from db.inbound_emails import InboundEmail
from db.messages import Message
from db.webhooks import WebhookDelivery
from domain.inbound_emails import InboundStatus
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api
from tests.fixtures.flows import Flows, eventually
from tests.fixtures.smtp import LOOPBACK, free_port

NAME = "Adalind Erasmus"
EMAIL = "adalind.erasmus@quillfeather.example"
PHONE = "+442079460321"
STREET = "17 Quillfeather Lane"
# What must be nowhere after the erasure, in any table or stored file.
PERSONAL = (NAME, EMAIL, PHONE, STREET)

ERASE = """
mutation($input: EraseContactInput!) {
  eraseContact(input: $input) { erasedContactId errors { field code message } }
}"""
CONTACT = """query($id: ID!) { node(id: $id) { ... on Contact { id firstName emails } } }"""
FIND_CONTACT = """{ contacts(first: 5) { edges { node { id firstName } } } }"""


async def _mail_in(settings: Settings, sending: Flows) -> str:
    """Adalind writes to the agency's sales address: a contact and a lead, the raw mail kept."""
    handler = InboundHandler(sending.documents, sending.links, InboundLimits())
    port = free_port()
    server = await start_server(handler, LOOPBACK, port, 1_000_000)
    mail = EmailMessage()
    mail["From"] = f"{NAME} <{EMAIL}>"
    mail["To"] = "sales@acme.inbound.localhost"
    mail["Subject"] = "Quill order"
    mail["Message-ID"] = "<quill-1@quillfeather.example>"
    mail.set_content(f"Please send an offer.\n\nBest regards,\n{NAME}\nPhone: {PHONE}\n")
    try:
        async with aiosmtplib.SMTP(hostname=LOOPBACK, port=port) as client:
            await client.send_message(mail)
    finally:
        server.close()
        await server.wait_closed()

    async def processed() -> InboundEmail | None:
        await sending.relay_all()
        return await InboundEmail.get_or_none(
            agency_id=sending.agency_id, status=InboundStatus.PROCESSED
        )

    async with sending.worker():
        mail_row = await eventually(processed)
    assert mail_row.contact_id is not None
    return str(relay.GlobalID("Contact", str(mail_row.contact_id)))


async def _everything_about(api: Api, sending: Flows, contact_id: str) -> None:
    """The contact's data spread the ways a CRM spreads it."""
    data = await api.graphql(
        """mutation($input: UpdateContactInput!) {
          updateContact(input: $input) { errors { code } } }""",
        {"input": {"id": contact_id, "phones": [PHONE], "address": {"street": STREET}}},
    )
    assert data["updateContact"]["errors"] == []
    await api.created(
        "AddNoteInput", "addNote", "note", {"recordId": contact_id, "body": f"Mail {EMAIL}"}
    )
    await api.created(
        "CreateDealInput",
        "createDeal",
        "deal",
        {"name": f"{NAME} renewal", "expectedCloseDate": "2027-01-31", "contactId": contact_id},
    )
    await api.created(
        "CreateCallingTaskInput",
        "createCallingTask",
        "callingTask",
        {"subject": f"Call {NAME}", "contactId": contact_id, "notes": f"Ring {PHONE}"},
    )
    upload = await api.client.post(
        "/documents",
        params={"recordId": contact_id, "fileName": "passport.txt"},
        content=f"{NAME}, {STREET}".encode(),
        headers=api.headers(**{"content-type": "text/plain"}),
    )
    assert upload.status_code == 201, upload.text
    sent = await api.graphql(
        """mutation($input: SendMessageInput!) {
          sendMessage(input: $input) { message { id } errors { code message } } }""",
        {"input": {"recordId": contact_id, "subject": "Your offer", "body": f"Dear {NAME},"}},
    )
    assert sent["sendMessage"]["errors"] == []
    message = await Message.get(
        id=int(relay.GlobalID.from_id(sent["sendMessage"]["message"]["id"]).node_id)
    )
    await sending.relay_all()
    async with sending.worker():
        await sending.result(
            sending.client.get_workflow_handle(f"message-{message.agency_id}-{message.id}")
        )


async def _export(api: Api, contact_id: str) -> Any:
    return await api.client.get(f"/privacy/contacts/{contact_id}/export", headers=api.headers())


async def _rows_holding(value: str) -> list[str]:
    """Every table and column of the database whose text holds the value (any case)."""
    connection = connections.get("default")
    if is_postgres(connection):
        columns = await connection.execute_query_dict(
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        )
    else:
        columns = []
        for table in await connection.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ):
            for column in await connection.execute_query_dict(
                f'PRAGMA table_info("{table["name"]}")'
            ):
                columns.append({"t": table["name"], "c": column["name"]})
    mark = "$1" if is_postgres(connection) else "?"
    found = []
    for column in columns:
        rows = await connection.execute_query_dict(
            f'SELECT 1 FROM "{column["t"]}" WHERE lower(CAST("{column["c"]}" AS TEXT)) LIKE {mark}',
            [f"%{value.lower()}%"],
        )
        if rows:
            found.append(f"{column['t']}.{column['c']}")
    return found


def _files_holding(settings: Settings, value: str) -> list[str]:
    """Stored files (documents, raw mail) holding the value. A SQLite database file is left
    out: its freed pages keep old bytes until reused, as PostgreSQL's dead rows do until
    vacuumed (docs/privacy.md); the tables are searched instead."""
    database = Path(settings.database_url.removeprefix("sqlite://"))
    return [
        str(path)
        for path in settings.data_dir.rglob("*")
        if path.is_file()
        and not path.name.startswith(database.name)
        and value.lower().encode() in path.read_bytes().lower()
    ]


async def _check_export(api: Api, rep: Api, contact_id: str) -> None:
    response = await _export(api, contact_id)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))

    def read(name: str) -> Any:
        return json.loads(archive.read(name))

    contact = read("contact.json")["contact"]
    assert (contact["emails"], contact["phones"], contact["street"]) == ([EMAIL], [PHONE], STREET)
    assert [n["body"] for n in read("notes.json")] == [f"Mail {EMAIL}"]
    [document] = read("documents.json")
    assert archive.read(document["file"]) == f"{NAME}, {STREET}".encode()
    records = read("records.json")
    assert [d["name"] for d in records["deal"]] == [f"{NAME} renewal"]
    # The call made for the contact, and the two its deal's first stage made (its activities).
    assert sorted(t["subject"] for t in records["calling_task"]) == sorted(
        [f"Call {NAME}", "Initial Contact", "Qualification Call"]
    )
    assert [lead["title"] for lead in records["lead"]] == ["Quill order"]
    [message] = read("messages.json")
    assert (message["subject"], message["status"]) == ("Your offer", "sent")
    [received] = read("received.json")
    assert b"Subject: Quill order" in archive.read(received["file"])
    timeline = {e["type"] for e in read("timeline.json")}
    assert {"contact.created", "email.received", "deal.created", "message.sent"} <= timeline
    assert NAME in archive.read("README.txt").decode()
    [audit] = await AuditEntry.filter(action="export")
    assert (audit.entity_id, audit.before, audit.after) == (
        relay.GlobalID.from_id(contact_id).node_id,
        {},
        {},
    )

    refused = await _export(rep, contact_id)
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (403, "FORBIDDEN")
    other = await other_agency_admin(api)
    assert (await _export(other, contact_id)).status_code == 404
    assert (await _export(api.as_(None), contact_id)).status_code == 401


async def test_an_admin_exports_a_contact_then_erases_it_leaving_no_trace(
    api: Api, settings: Settings, sending: Flows
) -> None:
    """One contact's data spread through mail, notes, documents, deals, calls and messages:
    the export holds all of it; after the erasure no table and no stored file does."""
    contact_id = await _mail_in(settings, sending)
    await _everything_about(api, sending, contact_id)
    rep, _ = await colleague(api, Role.SALES_PERSON)
    await _check_export(api, rep, contact_id)
    hook = await api.graphql(
        """mutation($input: CreateWebhookEndpointInput!) {
          createWebhookEndpoint(input: $input) { errors { code } } }""",
        {"input": {"url": "https://93.184.216.34/crm", "eventTypes": ["contact.*"]}},
    )
    assert hook["createWebhookEndpoint"]["errors"] == []
    for value in PERSONAL:
        assert await _rows_holding(value), f"{value} should be held before the erasure"
    refused = (await rep.graphql(ERASE, {"input": {"id": contact_id}}))["eraseContact"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]

    erased = (await api.graphql(ERASE, {"input": {"id": contact_id}}))["eraseContact"]

    assert erased == {"erasedContactId": contact_id, "errors": []}
    for value in PERSONAL:
        assert await _rows_holding(value) == [], value
        assert _files_holding(settings, value) == [], value
    node = (await api.graphql(CONTACT, {"id": contact_id}))["node"]
    assert node is None  # gone from every query, like a deleted contact
    row = await Contact.get(id=relay.GlobalID.from_id(contact_id).node_id)
    assert (row.first_name, row.emails, row.erased_at is not None) == ("[erased]", [], True)
    [audit] = await AuditEntry.filter(action="erase")
    assert (audit.entity_id, audit.before, audit.after) == (str(row.id), {}, {})
    assert audit.actor_id.startswith("user:")
    [event] = await Event.filter(type="contact.erased")
    assert (event.aggregate_id, event.payload) == (str(row.id), {})
    assert await WebhookDelivery.filter(event_id=event.id).count() == 1
    again = (await api.graphql(ERASE, {"input": {"id": contact_id}}))["eraseContact"]
    assert [e["code"] for e in again["errors"]] == ["ALREADY_ERASED"]
    assert (await _export(api, contact_id)).status_code == 404
