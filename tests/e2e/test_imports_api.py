"""Imports over HTTP and GraphQL: upload a file, confirm the suggested mapping, watch the
batches' progress, download the error report; duplicates, limits, malformed files, a worker
restart mid-import, cancel, and who may import. With CRM_RECORD_FLOW_HISTORIES=1 the
restarted run's history is recorded for the replay tests."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import Workbook
from strawberry import relay
from temporalio.client import WorkflowHandle

from activities.imports import ImportProgress
from crm.settings import Settings
from db.audit import AuditEntry
from db.contacts import Contact
from db.events import Event
from db.imports import RecordImport
from domain.actors import Actor
from domain.duplicates import Probe, RecordType, find_duplicates
from domain.event_visibility import visible_events
from domain.roles import Role
from tests.e2e.colleagues import colleague, other_agency_admin
from tests.e2e.conftest import ADMIN_EMAIL, Api, make_settings, open_api
from tests.fixtures.flows import Flows
from tests.integration.test_flow_runs import keep_history
from workflows.record_import import ImportRecords

ERRORS = "errors { field code message }"
REP = frozenset({Role.SALES_PERSON})
IMPORT = (
    "id status recordType columns totalRows rowsDone created updated skipped failed "
    "duplicatePolicy mapping { column field } errorReportPath"
)
START = f"""mutation($input: StartRecordImportInput!) {{
  startRecordImport(input: $input) {{ recordImport {{ {IMPORT} }} {ERRORS} }}
}}"""
CANCEL = f"""mutation($id: ID!) {{
  cancelRecordImport(input: {{id: $id}}) {{ recordImport {{ {IMPORT} }} {ERRORS} }}
}}"""
READ = f"query($id: ID!) {{ recordImport(id: $id) {{ {IMPORT} }} }}"
PEOPLE = (
    "First Name,Surname,E-mail,Phone,Company,Size\n"
    "Ada,Lovelace,ada@example.com,+44 20 7946 0018,Analytical,12\n"
    "Grace,Hopper,GRACE@example.com,,Navy,not a number\n"
    "=cmd|' /C calc'!A0,Evil,not-an-email,,,\n"
    "\n"
    "Linus,Torvalds,linus@example.com,,Kernel,3\n"
)


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def upload(
    api: Api, content: bytes, file_name: str = "people.csv", record_type: str = "contact"
) -> httpx.Response:
    return await api.client.post(
        f"/imports?recordType={record_type}&fileName={quote(file_name)}",
        content=content,
        headers=api.headers(**{"content-type": "application/octet-stream"}),
    )


async def start(api: Api, import_id: str, mapping: dict[str, str], policy: str = "SKIP") -> Any:
    given = [{"column": c, "field": f} for c, f in mapping.items()]
    data = await api.graphql(
        START, {"input": {"id": import_id, "mapping": given, "duplicatePolicy": policy}}
    )
    return data["startRecordImport"]


async def run(sending: Flows, import_id: str) -> ImportProgress:
    await sending.relay_all()
    async with sending.worker():
        progress = await sending.result(import_handle(sending, import_id))
    assert progress is not None
    return progress


def import_handle(sending: Flows, import_id: str) -> WorkflowHandle[Any, ImportProgress | None]:
    node = relay.GlobalID.from_id(import_id).node_id
    return sending.client.get_workflow_handle_for(
        ImportRecords.run, f"import-{sending.agency_id}-{node}"
    )


async def create_size_field(api: Api) -> None:
    data = await api.graphql(
        """mutation { defineCustomField(input: {recordType: CONTACT, key: "size",
             label: "Size", type: NUMBER}) { errors { code } } }"""
    )
    assert data["defineCustomField"]["errors"] == []


async def test_a_csv_becomes_contacts_with_progress_events_and_an_error_report(
    api: Api, sending: Flows
) -> None:
    await create_size_field(api)
    ada = await api.created(
        "CreateContactInput",
        "createContact",
        "contact",
        {"firstName": "Ada", "lastName": "", "emails": ["ada@example.com"], "jobTitle": "Countess"},
    )
    uploaded = await upload(api, PEOPLE.encode())
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    record_import = body["recordImport"]
    assert record_import["columns"] == [
        "First Name",
        "Surname",
        "E-mail",
        "Phone",
        "Company",
        "Size",
    ]
    assert (record_import["status"], record_import["totalRows"]) == ("UPLOADED", 4)
    assert body["sampleRows"][0] == [
        "Ada", "Lovelace", "ada@example.com", "+44 20 7946 0018", "Analytical", "12"
    ]  # fmt: skip
    suggested = {m["column"]: m["field"] for m in body["suggestedMapping"]}
    assert suggested == {
        "First Name": "first_name",
        "Surname": "last_name",
        "E-mail": "email",
        "Phone": "phone",
        "Company": "company_name",
        "Size": "custom:size",
    }
    assert "custom:size" in body["fields"]

    started = await start(api, record_import["id"], suggested, "MERGE")
    assert started["errors"] == []
    assert started["recordImport"]["status"] == "RUNNING"
    progress = await run(sending, record_import["id"])
    assert progress.done

    done = (await api.graphql(READ, {"id": record_import["id"]}))["recordImport"]
    counts = {k: done[k] for k in ("status", "rowsDone", "created", "updated", "skipped", "failed")}
    assert counts == {
        "status": "COMPLETED",
        "rowsDone": 4,
        "created": 1,
        "updated": 1,
        "skipped": 0,
        "failed": 2,
    }
    # MERGE filled Ada's empty fields and kept her job title; lists gained the row's phone.
    merged = await Contact.get(id=relay.GlobalID.from_id(ada).node_id)
    assert (merged.last_name, merged.job_title, merged.phones) == (
        "Lovelace",
        "Countess",
        ["+442079460018"],
    )
    linus = await Contact.get(first_name="Linus")
    assert linus.source == f"import:{relay.GlobalID.from_id(record_import['id']).node_id}"
    # Inserted in bulk, Linus still has his duplicate keys: the detector finds him.
    probe = Probe(RecordType.CONTACT, first_name="Linus", emails=("LINUS@example.com",))
    [matches] = await find_duplicates(linus.agency_id, [probe])
    assert [match.record_id for match in matches] == [linus.id]

    report = await api.client.get(done["errorReportPath"], headers=api.headers())
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(report.text)))
    assert lines[0] == ["row", "column", "problem"]
    problems = {(row, column) for row, column, _ in lines[1:]}
    assert problems == {("2", "Size"), ("3", "E-mail")}
    # The injected first name never reached a record, and no report cell starts a formula.
    assert not await Contact.filter(first_name__startswith="=").exists()
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)

    node = relay.GlobalID.from_id(record_import["id"]).node_id
    batches = await AuditEntry.filter(entity_id=str(node), action="import_batch")
    assert [b.after["rows"] for b in batches] == [[1, 5]]
    kinds = [e.type for e in await Event.filter(aggregate_id=str(node)).order_by("id")]
    assert kinds == [
        "record_import.uploaded",
        "record_import.started",
        "record_import.progressed",
        "record_import.completed",
    ]


async def test_mapping_errors_are_named_and_start_nothing(api: Api) -> None:
    uploaded = (await upload(api, b"Name,Mail\nAda,ada@example.com\n")).json()
    import_id = uploaded["recordImport"]["id"]
    assert uploaded["suggestedMapping"] == [{"column": "Mail", "field": "email"}]
    refused = await start(
        api, import_id, {"Nope": "first_name", "Mail": "email", "Name": "shoe_size"}
    )
    assert sorted((e["field"], e["code"]) for e in refused["errors"]) == [
        ("mapping", "REQUIRED_FIELD_UNMAPPED"),
        ("mapping.Name", "UNKNOWN_FIELD"),
        ("mapping.Nope", "UNKNOWN_COLUMN"),
    ]
    twice = await start(api, import_id, {"Name": "first_name", "Mail": "first_name"})
    assert [e["code"] for e in twice["errors"]] == ["FIELD_MAPPED_TWICE"]
    still = (await api.graphql(READ, {"id": import_id}))["recordImport"]
    assert (still["status"], still["mapping"]) == ("UPLOADED", [])
    unknown = await upload(api, b"Name\nAda\n", record_type="invoice")
    assert unknown.json()["errors"][0]["code"] == "UNKNOWN_RECORD_TYPE"


async def test_malformed_and_oversized_files_get_a_typed_error_and_change_nothing(
    database_url: str, tmp_path: Path
) -> None:
    settings: Settings = make_settings(
        database_url, tmp_path, import_max_rows=3, import_max_columns=3, import_max_bytes=20_000
    )
    cases: list[tuple[bytes, str, str, int]] = [
        ("Name\nJos\xe9\n".encode("latin-1"), "people.csv", "BAD_ENCODING", 400),
        (b"PK\x03\x04 not really a workbook", "people.xlsx", "BROKEN_FILE", 400),
        (b"", "people.csv", "EMPTY_FILE", 400),
        (b"Name\n", "people.csv", "EMPTY_FILE", 400),
        (b"Name,,Mail\nAda,x,y\n", "people.csv", "NO_HEADER", 400),
        (b"a,b,c,d\n1,2,3,4\n", "people.csv", "TOO_MANY_COLUMNS", 413),
        (b"Name\n1\n2\n3\n4\n", "people.csv", "TOO_MANY_ROWS", 413),
        (b"Name\n" + b"x\n" * 15_000, "people.csv", "FILE_TOO_LARGE", 413),
        (b"%PDF-1.7", "offer.pdf", "UNSUPPORTED_FORMAT", 400),
    ]
    async with open_api(settings) as api:
        for content, name, code, status in cases:
            answer = await upload(api, content, name)
            assert (answer.status_code, answer.json()["errors"][0]["code"]) == (status, code), name
        assert await RecordImport.all().count() == 0
        stored = [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
        assert stored == []
        good = await upload(
            api, xlsx_bytes([["Name", "Email"], ["Ada", "ada@example.com"]]), "p.xlsx"
        )
        assert good.status_code == 201
        assert good.json()["sampleRows"] == [["Ada", "ada@example.com"]]


async def test_a_worker_restart_mid_import_imports_every_row_once(api: Api, sending: Flows) -> None:
    rows: list[list[Any]] = [["First name", "Email"]]
    rows += [[f"Person {n}", f"p{n}@example.com"] for n in range(300)]
    answer = await upload(api, xlsx_bytes(rows), "people.xlsx")
    assert answer.status_code == 201, answer.text
    uploaded = answer.json()
    import_id = uploaded["recordImport"]["id"]
    node = relay.GlobalID.from_id(import_id).node_id
    assert (await start(api, import_id, {"First name": "first_name", "Email": "email"}))[
        "errors"
    ] == []
    await sending.relay_all()
    handle = import_handle(sending, import_id)
    async with sending.worker(max_cached_workflows=0):
        async with asyncio.timeout(30):
            while (await RecordImport.get(id=node)).next_row <= 1:  # noqa: ASYNC110 (polling a row)
                await asyncio.sleep(0.005)
    # The first worker stopped mid-import: some batches committed, not all.
    assert 1 < (await RecordImport.get(id=node)).next_row <= 300
    async with sending.worker(max_cached_workflows=0):
        progress = await sending.result(handle)
    assert progress is not None
    assert (progress.created, progress.failed, progress.rows_done) == (300, 0, 300)
    assert await Contact.filter(source=f"import:{node}").count() == 300
    await keep_history("import-resumed-after-worker-restart", handle)
    emails = [c.emails[0] for c in await Contact.filter(source=f"import:{node}")]
    assert len(set(emails)) == 300


async def test_a_cancelled_import_stops_and_a_finished_one_cannot_be_cancelled(
    api: Api, sending: Flows
) -> None:
    uploaded = (await upload(api, b"Name\nAda\nGrace\n")).json()
    import_id = uploaded["recordImport"]["id"]
    assert (await start(api, import_id, {"Name": "first_name"}))["errors"] == []
    cancelled = (await api.graphql(CANCEL, {"id": import_id}))["cancelRecordImport"]
    assert (cancelled["errors"], cancelled["recordImport"]["status"]) == ([], "CANCELLED")
    progress = await run(sending, import_id)
    assert (progress.status, progress.created) == ("cancelled", 0)
    assert await Contact.filter(first_name="Grace").count() == 0
    again = (await api.graphql(CANCEL, {"id": import_id}))["cancelRecordImport"]
    assert [e["code"] for e in again["errors"]] == ["NOT_CANCELLABLE"]


async def test_sales_people_import_their_own_support_may_not_and_agencies_stay_apart(
    api: Api,
) -> None:
    rep, rep_id = await colleague(api, Role.SALES_PERSON)
    mine = await upload(rep, b"Name\nAda\n")
    assert mine.status_code == 201
    import_id = mine.json()["recordImport"]["id"]
    assert (await rep.graphql(READ, {"id": import_id}))["recordImport"]["id"] == import_id
    support, _ = await colleague(api, Role.CUSTOMER_SUPPORT)
    refused = await upload(support, b"Name\nAda\n")
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (403, "FORBIDDEN")
    other_rep, _ = await colleague(api, Role.SALES_PERSON)
    assert (await other_rep.graphql(READ, {"id": import_id}))["recordImport"] is None
    bolt = await other_agency_admin(api)
    assert (await bolt.graphql(READ, {"id": import_id}))["recordImport"] is None
    report = await bolt.client.get(f"/imports/{import_id}/errors.csv", headers=bolt.headers())
    assert report.status_code == 404
    row = await RecordImport.get(id=relay.GlobalID.from_id(import_id).node_id)
    assert row.owner_id == rep_id
    # Its events reach who may read it: the uploader, not another sales person.
    events = await Event.filter(aggregate_id=str(row.id))
    uploader = Actor(row.agency_id, f"user:{rep_id}", user_id=rep_id, roles=REP)
    other = Actor(row.agency_id, "user:other", user_id=uuid.uuid4(), roles=REP)
    assert [e.type for e in await visible_events(uploader, events)] == ["record_import.uploaded"]
    assert await visible_events(other, events) == []


# The command runs the same domain code as the API (tested above on both databases); one
# process start is enough.
@pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)
async def test_crm_import_runs_a_file_with_a_progress_bar(
    api: Api, database_url: str, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("Name,Mail\nAda,ada@example.com\nGrace,not-an-email\nLinus,l@example.com\n")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Name": "first_name", "Mail": "email"}))
    environment = {**os.environ, "CRM_DATABASE_URL": database_url, "CRM_DATA_DIR": str(tmp_path)}
    command = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "crm",
        "import",
        str(people),
        "--mapping",
        str(mapping),
        "--agency",
        "acme",
        "--as",
        ADMIN_EMAIL,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await command.communicate()
    assert command.returncode == 0, err.decode()
    assert f"[{'#' * 30}] 3/3 rows  created 2  updated 0  skipped 0  failed 1" in err.decode()
    assert "completed" in out.decode()
    assert "1 row(s) not imported" in out.decode()
    report = (tmp_path / "people.csv.errors.csv").read_text().splitlines()
    assert report[1].startswith("2,Mail,")
    imported = await Contact.filter(first_name__in=["Ada", "Linus"])
    assert len(imported) == 2
    assert all(contact.source.startswith("import:") for contact in imported)
