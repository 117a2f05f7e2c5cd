"""Visiting cards through the API: a photo goes up (`POST /card-scans`), the real OCR reads
it into a draft, GraphQL shows the draft and `confirmCardScan` makes it a contact; what is
refused stores nothing, and other people see only what their role shows them."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from strawberry import relay

from crm.settings import Settings
from db.card_scans import CardScan
from db.documents import Document
from db.events import Event
from db.users import User
from domain import documents
from domain.card_reader import CardReader
from domain.documents import UploadLimits
from domain.roles import Role
from tests.e2e.colleagues import acme_system, colleague, other_agency_admin
from tests.e2e.conftest import ADMIN_EMAIL, Api, make_settings, open_api
from tests.fixtures.cards import CARDS, render

SCAN = """
query($id: ID!) {
  cardScan(id: $id) {
    id status confirmedAt
    name { value confidence } title { value } company { value } email { value }
    phone { value } website { value } address { value }
    lines { text confidence }
    photo { downloadPath contentType }
    owner { name }
    contact { id }
  }
}"""
CONFIRM = """
mutation($input: ConfirmCardScanInput!) {
  confirmCardScan(input: $input) {
    cardScan { status contact { id } }
    contact {
      id firstName lastName jobTitle companyName emails phones notes source
      address { street city postalCode country }
    }
    errors { field code message }
  }
}"""
DISCARD = """
mutation($id: ID!) {
  discardCardScan(input: {id: $id}) { cardScan { id } errors { field code message } }
}"""
MARIA = CARDS[0]


@pytest.fixture
async def api(settings: Settings, card_reader: CardReader) -> AsyncIterator[Api]:
    async with open_api(settings, card_reader) as opened:
        yield opened


async def scan(api: Api, body: bytes, content_type: str, file_name: str = "card") -> httpx.Response:
    return await api.client.post(
        f"/card-scans?fileName={quote(file_name)}",
        content=body,
        headers=api.headers(**{"content-type": content_type}),
    )


async def test_a_card_photo_becomes_a_draft_and_then_a_contact(api: Api, tmp_path: Path) -> None:
    photo = render(MARIA)
    response = await scan(api, photo, "image/png", "maria.png")
    assert response.status_code == 201, response.text
    body = response.json()["cardScan"]
    assert body["status"] == "DRAFT"
    assert body["fields"]["email"]["value"] == MARIA.email
    scan_id = body["id"]

    draft = (await api.graphql(SCAN, {"id": scan_id}))["cardScan"]
    assert draft["name"]["value"] == "Maria Schneider"
    assert 0 < draft["name"]["confidence"] <= 1
    assert draft["phone"] == {"value": "+49301234567"}
    assert draft["website"] == {"value": "www.nordwind-logistics.de"}
    assert draft["lines"][0]["text"] == "Maria Schneider"
    assert draft["owner"] == {"name": "Ada Admin"}
    assert draft["contact"] is None
    assert draft["confirmedAt"] is None
    stored = await api.client.get(draft["photo"]["downloadPath"], headers=api.headers())
    assert stored.status_code == 200
    assert stored.content == photo

    # A contact the checks refuse leaves the scan a draft, to confirm again.
    refused = await api.graphql(
        CONFIRM, {"input": {"id": scan_id, "firstName": " ", "emails": ["not an email"]}}
    )
    codes = {(e["field"], e["code"]) for e in refused["confirmCardScan"]["errors"]}
    assert codes == {("firstName", "REQUIRED"), ("emails.0", "INVALID_EMAIL")}
    assert (await api.graphql(SCAN, {"id": scan_id}))["cardScan"]["status"] == "DRAFT"

    # The user corrects the title and adds the country the card did not print.
    address = {"street": "Friedrichstrasse 123", "postalCode": "10117", "city": "Berlin"}
    confirmed = await api.graphql(
        CONFIRM,
        {
            "input": {
                "id": scan_id,
                "jobTitle": "Head of Global Procurement",
                "address": {**address, "country": "DE"},
            }
        },
    )
    answer = confirmed["confirmCardScan"]
    assert answer["errors"] == []
    contact = answer["contact"]
    assert (contact["firstName"], contact["lastName"]) == ("Maria", "Schneider")
    assert contact["jobTitle"] == "Head of Global Procurement"
    assert contact["companyName"] == "Nordwind Logistics GmbH"
    assert contact["emails"] == [MARIA.email]
    assert contact["phones"] == ["+49301234567"]
    assert contact["notes"] == "Website: www.nordwind-logistics.de"
    assert contact["source"] == "visiting card"
    assert contact["address"] == {**address, "country": "DE"}
    assert answer["cardScan"] == {"status": "CONFIRMED", "contact": {"id": contact["id"]}}
    # The contact came the way createContact's do: its event is there for flows and webhooks.
    assert await Event.filter(type="contact.created").count() == 1
    assert await Event.filter(type="card_scan.updated").count() == 1

    again = await api.graphql(CONFIRM, {"input": {"id": scan_id}})
    assert [e["code"] for e in again["confirmCardScan"]["errors"]] == ["ALREADY_CONFIRMED"]
    assert await Event.filter(type="contact.created").count() == 1
    kept = await api.graphql(DISCARD, {"id": scan_id})
    assert [e["code"] for e in kept["discardCardScan"]["errors"]] == ["ALREADY_CONFIRMED"]

    # Others see the scan and its photo only under its row scope.
    outsider = await other_agency_admin(api)
    assert (await outsider.graphql(SCAN, {"id": scan_id}))["cardScan"] is None
    stolen = await outsider.graphql(CONFIRM, {"input": {"id": scan_id}})
    assert [e["code"] for e in stolen["confirmCardScan"]["errors"]] == ["NOT_FOUND"]
    seller, _ = await colleague(api, Role.SALES_PERSON)
    assert (await seller.graphql(SCAN, {"id": scan_id}))["cardScan"] is None
    listed = await seller.graphql("{ cardScans { edges { node { id } } } }")
    assert listed["cardScans"]["edges"] == []
    download = await api.client.get(draft["photo"]["downloadPath"], headers=seller.headers())
    assert download.status_code == 404

    # Erasing the person erases the card they were scanned from: its text and its photo.
    erased = await api.graphql(
        "mutation($id: ID!) { eraseContact(input: {id: $id}) { errors { code } } }",
        {"id": contact["id"]},
    )
    assert erased["eraseContact"]["errors"] == []
    assert await CardScan.all().count() == 0
    assert await Document.all().count() == 0
    assert not [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]


async def test_a_discarded_draft_and_its_photo_are_gone(api: Api, settings: Settings) -> None:
    # A draft as scanning writes it, without the OCR (the test above reads a real card).
    system = await acme_system()
    owner = await User.get(email=ADMIN_EMAIL)
    draft = await CardScan.create(agency_id=system.agency_id, owner_id=owner.id)
    photo = await documents.upload_document(
        system,
        settings.storage(),
        UploadLimits(),
        "card_scan",
        draft.id,
        "card.png",
        "image/png",
        one_chunk(b"photo"),
    )
    scan_id = str(relay.GlobalID("CardScan", str(draft.id)))
    path = f"/documents/{relay.GlobalID('Document', str(photo.id))}"
    assert (await api.client.get(path, headers=api.headers())).status_code == 200

    discarded = await api.graphql(DISCARD, {"id": scan_id})
    assert discarded["discardCardScan"] == {"cardScan": {"id": scan_id}, "errors": []}
    assert (await api.graphql(SCAN, {"id": scan_id}))["cardScan"] is None
    assert (await api.client.get(path, headers=api.headers())).status_code == 404
    gone = await api.graphql(CONFIRM, {"input": {"id": scan_id}})
    assert [e["code"] for e in gone["confirmCardScan"]["errors"]] == ["NOT_FOUND"]
    assert await Event.filter(type="card_scan.deleted").count() == 1


async def one_chunk(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def test_scanning_needs_a_role_that_creates_contacts(api: Api) -> None:
    sysadmin, _ = await colleague(api, Role.SYSADMIN)
    refused = await scan(sysadmin, b"not read", "image/png")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "FORBIDDEN"
    anonymous = await scan(api.as_(None), b"not read", "image/png")
    assert anonymous.status_code == 401
    assert anonymous.json()["cardScan"] is None


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, format="PNG")
    return out.getvalue()


async def test_what_is_no_readable_card_photo_is_refused_and_nothing_kept(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url,
        tmp_path,
        card_max_bytes=60_000,
        card_max_pixels=700_000,
        card_read_timeout_seconds=0.001,
    )
    async with open_api(settings) as api:
        refusals = [
            (await scan(api, png(10, 10), "image/gif"), 415, "CONTENT_TYPE_NOT_ALLOWED"),
            (await scan(api, b"\x89PNG not really", "image/png"), 422, "INVALID_IMAGE"),
            (await scan(api, b"\x00" * 60_001, "image/png"), 413, "FILE_TOO_LARGE"),
            (await scan(api, png(1000, 800), "image/png"), 413, "IMAGE_TOO_LARGE"),
            # Any card takes longer than a millisecond to read.
            (await scan(api, png(300, 200), "image/png"), 422, "UNREADABLE"),
        ]
        for response, status, code in refusals:
            assert (response.status_code, response.json()["errors"][0]["code"]) == (status, code)
            assert response.json()["cardScan"] is None
        assert await CardScan.all().count() == 0
        assert await Document.all().count() == 0
    assert not [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
