"""Documents over HTTP: upload (`POST /documents`), download (`GET /documents/{id}`), listing
and soft delete over GraphQL; limits, names and who may reach which file."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from crm.settings import Settings
from db.audit import AuditEntry
from db.documents import Document
from db.events import Event
from domain.documents import purge_deleted_documents
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import Api, make_settings, open_api

CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } errors { code } }
}"""
DOCUMENTS = """
query($id: ID!) {
  customer(id: $id) {
    documents(first: 10) {
      edges { node { id fileName contentType size sha256 downloadPath recordId
                     uploadedBy { name } } }
    }
  }
}"""
DELETE = """
mutation($id: ID!) {
  deleteDocument(input: {id: $id}) { document { id } errors { field code message } }
}"""


async def new_customer(api: Api, owner: str | None = None) -> str:
    fields: dict[str, Any] = {"name": "Globex"}
    if owner:
        fields["ownerId"] = owner
    data = await api.graphql(CREATE_CUSTOMER, {"input": fields})
    assert data["createCustomer"]["errors"] == []
    customer_id: str = data["createCustomer"]["customer"]["id"]
    return customer_id


async def upload(
    api: Api,
    record_id: str,
    content: bytes | AsyncIterator[bytes],
    file_name: str = "offer.pdf",
    content_type: str = "application/pdf",
) -> httpx.Response:
    return await api.client.post(
        f"/documents?recordId={quote(record_id)}&fileName={quote(file_name)}",
        content=content,
        headers=api.headers(**{"content-type": content_type}),
    )


async def download(api: Api, path: str) -> httpx.Response:
    return await api.client.get(path, headers=api.headers())


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_file_goes_up_and_comes_back_byte_for_byte(api: Api, tmp_path: Path) -> None:
    customer_id = await new_customer(api)
    content = os.urandom(200_000) + b"\x00\xff end"
    response = await upload(api, customer_id, content)
    assert response.status_code == 201, response.text
    document = response.json()["document"]
    assert document["fileName"] == "offer.pdf"
    assert document["size"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest()

    fetched = await download(api, document["downloadPath"])
    assert fetched.status_code == 200
    assert fetched.content == content
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert fetched.headers["content-disposition"].startswith('attachment; filename="offer.pdf"')

    listed = await api.graphql(DOCUMENTS, {"id": customer_id})
    [edge] = listed["customer"]["documents"]["edges"]
    assert edge["node"]["id"] == document["id"]
    assert edge["node"]["recordId"] == customer_id
    assert edge["node"]["uploadedBy"] == {"name": "Ada Admin"}
    uploaded = await Event.filter(type="document.uploaded").get()
    assert uploaded.payload["sha256"] == document["sha256"]
    # Stored under the CRM's own key, not the file's name.
    [stored] = stored_files(tmp_path / "documents")
    assert stored.read_bytes() == content
    assert "offer" not in str(stored)


async def test_a_contact_takes_documents_too(api: Api) -> None:
    created = await api.graphql(
        'mutation { createContact(input: {firstName: "Kim"}) { contact { id } } }'
    )
    contact_id = created["createContact"]["contact"]["id"]
    response = await upload(api, contact_id, b"hello", "notes.txt", "text/plain; charset=utf-8")
    assert response.status_code == 201, response.text
    assert response.json()["document"]["contentType"] == "text/plain"
    listed = await api.graphql(
        "query($id: ID!) { contact(id: $id) { documents { edges { node { fileName } } } } }",
        {"id": contact_id},
    )
    assert listed["contact"]["documents"]["edges"] == [{"node": {"fileName": "notes.txt"}}]


async def test_leads_and_deals_take_documents_under_their_own_row_scope(api: Api) -> None:
    owner, _ = await colleague(api, Role.SALES_PERSON)
    stranger, _ = await colleague(api, Role.SALES_PERSON)
    outsider = await other_agency_admin(api)
    lead = await owner.graphql('mutation { createLead(input: {title: "Rebrand"}) { lead { id } } }')
    deal = await owner.graphql(
        'mutation { createDeal(input: {name: "Relaunch", expectedCloseDate: "2030-06-30"}) '
        "{ deal { id } } }"
    )
    records = (
        ("lead", lead["createLead"]["lead"]["id"]),
        ("deal", deal["createDeal"]["deal"]["id"]),
    )
    for field, record_id in records:
        response = await upload(owner, record_id, b"scope of work", f"{field}.pdf")
        assert response.status_code == 201, response.text
        document = response.json()["document"]
        listing = (
            f"query($id: ID!) {{ {field}(id: $id) {{ documents {{ edges {{ node "
            "{ fileName recordId } } } } }"
        )
        listed = await owner.graphql(listing, {"id": record_id})
        assert listed[field]["documents"]["edges"] == [
            {"node": {"fileName": f"{field}.pdf", "recordId": record_id}}
        ]
        for other in (stranger, outsider):
            assert (await other.graphql(listing, {"id": record_id})) == {field: None}
            assert (await download(other, document["downloadPath"])).status_code == 404
            hidden = await upload(other, record_id, b"x")
            assert (hidden.status_code, hidden.json()["errors"][0]["code"]) == (404, "NOT_FOUND")
    rows = await Document.all().order_by("created_at")
    assert [row.record_type for row in rows] == ["lead", "deal"]


async def test_a_file_over_the_limit_is_refused_and_leaves_nothing(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, max_upload_bytes=1_000)
    async with open_api(settings) as api:
        customer_id = await new_customer(api)

        declared = await upload(api, customer_id, b"x" * 1_001)
        assert declared.status_code == 413
        assert declared.json()["errors"][0]["code"] == "FILE_TOO_LARGE"

        async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: capped as it comes
            for _ in range(5):
                yield b"y" * 300

        response = await upload(api, customer_id, streamed())
        assert response.status_code == 413
        assert response.json()["errors"] == [
            {
                "field": "file",
                "code": "FILE_TOO_LARGE",
                "message": "Files may be at most 1000 bytes.",
            }
        ]
        assert await Document.all().count() == 0
        assert await Event.filter(type="document.uploaded").count() == 0
        assert stored_files(tmp_path / "documents") == []

        exactly = await upload(api, customer_id, b"z" * 1_000)
        assert exactly.status_code == 201, exactly.text


async def test_only_listed_media_types_are_taken_when_a_list_is_set(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, upload_content_types=["application/pdf"])
    async with open_api(settings) as api:
        customer_id = await new_customer(api)
        refused = await upload(api, customer_id, b"<html>", "page.html", "text/html")
        assert refused.status_code == 415
        assert refused.json()["errors"][0]["code"] == "CONTENT_TYPE_NOT_ALLOWED"
        assert (await upload(api, customer_id, b"%PDF")).status_code == 201
        assert stored_files(tmp_path / "documents") != []


async def test_file_names_cannot_reach_outside_the_storage(api: Api, tmp_path: Path) -> None:
    customer_id = await new_customer(api)
    for given, shown in (
        ("../../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("..", "document"),
        ("/", "document"),
        ("résumé\r\n\x00.pdf", "résumé.pdf"),
    ):
        response = await upload(api, customer_id, b"data", given)
        assert response.status_code == 201, response.text
        assert response.json()["document"]["fileName"] == shown
    root = (tmp_path / "documents").resolve()
    assert all(path.resolve().is_relative_to(root) for path in stored_files(root))
    assert not (tmp_path / "etc").exists()
    assert not (tmp_path.parent / "boot.ini").exists()

    accented = (await api.graphql(DOCUMENTS, {"id": customer_id}))["customer"]["documents"]
    path = accented["edges"][0]["node"]["downloadPath"]
    fetched = await download(api, path)
    assert fetched.headers["content-disposition"] == (
        "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    )
    for probe in ("/documents/..%2F..%2Fcrm.sqlite3", "/documents/not-an-id"):
        assert (await download(api, probe)).status_code == 404


async def test_another_agency_and_other_scopes_get_404_not_403(api: Api) -> None:
    head, _ = await colleague(api, Role.SALES_HEAD)
    owner, _ = await colleague(api, Role.SALES_PERSON)
    stranger, _ = await colleague(api, Role.SALES_PERSON)
    sysadmin, _ = await colleague(api, Role.SYSADMIN)
    support, _ = await colleague(api, Role.CUSTOMER_SUPPORT)
    customer_id = await new_customer(owner)
    response = await upload(owner, customer_id, b"secret plans")
    assert response.status_code == 201
    path = response.json()["document"]["downloadPath"]

    assert (await download(owner, path)).content == b"secret plans"
    assert (await download(support, path)).status_code == 200  # support reads agency-wide
    for outsider in (await other_agency_admin(api), stranger, sysadmin, head):
        fetched = await download(outsider, path)
        assert fetched.status_code == 404, fetched.text
        assert b"secret" not in fetched.content
    assert (await download(api.as_(None), path)).status_code == 401
    assert (await download(api.as_("not-a-token"), path)).status_code == 401

    # Uploading needs the right to change the record.
    refused = await upload(support, customer_id, b"x")
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (403, "FORBIDDEN")
    hidden = await upload(stranger, customer_id, b"x")
    assert (hidden.status_code, hidden.json()["errors"][0]["code"]) == (404, "NOT_FOUND")
    assert (await upload(api.as_(None), customer_id, b"x")).status_code == 401
    assert (await upload(owner, "Q3VzdG9tZXI6bm9wZQ==", b"x")).status_code == 404
    assert await Document.all().count() == 1


async def test_a_deleted_document_is_neither_listed_nor_served(api: Api) -> None:
    customer_id = await new_customer(api)
    document = (await upload(api, customer_id, b"old terms")).json()["document"]
    sales, _ = await colleague(api, Role.SALES_PERSON)
    refused = await sales.graphql(DELETE, {"id": document["id"]})
    assert refused["deleteDocument"]["errors"][0]["code"] == "NOT_FOUND"

    deleted = await api.graphql(DELETE, {"id": document["id"]})
    assert deleted["deleteDocument"] == {"document": {"id": document["id"]}, "errors": []}
    assert (await download(api, document["downloadPath"])).status_code == 404
    listed = await api.graphql(DOCUMENTS, {"id": customer_id})
    assert listed["customer"]["documents"]["edges"] == []
    again = await api.graphql(DELETE, {"id": document["id"]})
    assert again["deleteDocument"]["errors"][0]["code"] == "NOT_FOUND"
    row = await Document.get(sha256=document["sha256"])
    assert row.deleted_at is not None  # soft: kept for audit
    assert await Event.filter(type="document.deleted", aggregate_id=str(row.id)).exists()


async def test_deleted_documents_are_erased_after_the_retention_period(
    api: Api, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    customer_id = await new_customer(api)
    uploaded = {}
    for name in ("kept.pdf", "recent.pdf", "old.pdf"):
        response = await upload(api, customer_id, name.encode(), file_name=name)
        uploaded[name] = response.json()["document"]
    for name in ("recent.pdf", "old.pdf"):
        deleted = await api.graphql(DELETE, {"id": uploaded[name]["id"]})
        assert deleted["deleteDocument"]["errors"] == []
    old = await Document.get(file_name="old.pdf")
    await Document.filter(id=old.id).update(deleted_at=datetime.now(UTC) - timedelta(days=40))

    # The command an operator runs daily: the default retention is 30 days.
    environment = {**os.environ, "CRM_DATABASE_URL": database_url, "CRM_DATA_DIR": str(tmp_path)}
    purge = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm",
        "documents",
        "purge",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await purge.communicate()
    assert purge.returncode == 0, err.decode()
    assert out.decode() == "1 document(s) deleted more than 30 day(s) ago purged\n"

    left = sorted(document.file_name for document in await Document.all())
    assert left == ["kept.pdf", "recent.pdf"]
    stored = sorted(path.read_bytes() for path in stored_files(tmp_path / "documents"))
    assert stored == [b"kept.pdf", b"recent.pdf"]
    [audit] = await AuditEntry.filter(entity_type="document", action="purge")
    assert (audit.entity_id, audit.before["file_name"], audit.after) == (str(old.id), "old.pdf", {})

    # A shorter period erases the recent one too; a second run finds nothing left to do.
    storage = settings.storage()
    assert await purge_deleted_documents(storage, datetime.now(UTC)) == 1
    assert await purge_deleted_documents(storage, datetime.now(UTC)) == 0
    assert [path.read_bytes() for path in stored_files(tmp_path / "documents")] == [b"kept.pdf"]
    kept = await download(api, uploaded["kept.pdf"]["downloadPath"])
    assert (kept.status_code, kept.content) == (200, b"kept.pdf")
