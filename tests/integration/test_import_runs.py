"""An import's batches on real databases: duplicates found by the one detector (against stored
records and between rows of the same file, across batches too) under each duplicate policy,
the detector's cost per batch, and the per-record events an import appends, which start the
new-contact flow on the time-skipping Temporal server unless the import says not to."""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from db.contacts import Contact
from db.duplicates import duplicate_key_rows
from db.events import Event
from db.flow_runs import FlowRun as FlowRunRow
from db.imports import RecordImport
from domain import contacts, import_runs, imports
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.duplicates import Probe, RecordType, find_duplicates
from domain.import_files import ImportLimits
from domain.imports import DuplicatePolicy
from domain.storage import LocalFolderStorage, Storage
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.flows import Flows

LIMITS = ImportLimits(batch_rows=3)  # rows 1-3 in one batch, 4-6 in the next
MAPPING = {
    "First name": "first_name",
    "Last name": "last_name",
    "Email": "email",
    "Phone": "phone",
    "Company": "company_name",
}
PEOPLE = (
    "First name,Last name,Email,Phone,Company\n"
    "Ada,Lovelace,ADA@example.com,,Analytical\n"  # 1: the stored Ada (email)
    "Grace,Hopper,grace@example.com,+44 20 7946 0001,Navy\n"  # 2: new
    "Grace,Hopper,g.hopper@navy.example,+442079460001,Navy\n"  # 3: row 2 (phone, same batch)
    "Alan,Turing,alan@example.com,,Bletchley Park\n"  # 4: new
    "Alan,Turing,,,Bletchley Park Ltd\n"  # 5: row 4 (name at the same company)
    "Grace,Hopper,grace@example.com,,\n"  # 6: row 2 (email, an earlier batch)
)


async def _chunks(content: bytes) -> AsyncIterator[bytes]:
    yield content


async def run_import(
    actor: Actor,
    storage: Storage,
    text: str,
    policy: DuplicatePolicy,
    start_flows: bool = True,
) -> RecordImport:
    """Upload, start and run an import as `crm import` does (the workflow's activity runs the
    same `import_rows`)."""
    preview = await imports.upload_import(
        actor, storage, LIMITS, "contact", "people.csv", _chunks(text.encode())
    )
    started = await imports.start_import(
        actor,
        preview.record_import.id,
        MAPPING,
        policy,
        by_workflow=False,
        start_flows=start_flows,
    )
    progress = await import_runs.import_rows(storage, LIMITS, started.id, lambda *_: None, 100)
    assert progress.status == "completed", progress
    return await RecordImport.get(id=started.id)


async def new_agency() -> Actor:
    slug = f"imp-{uuid.uuid4().hex[:8]}"
    agency, _, _ = await bootstrap_agency(
        "Imports", slug, f"admin@{slug}.example.com", "A", "a-long-password-1"
    )
    return Actor.system(agency.id, "test")


def counts(done: RecordImport) -> tuple[int, int, int, int]:
    return done.created, done.updated, done.skipped, done.failed


@pytest.mark.parametrize(
    ("policy", "expected", "contacts_after"),
    [
        (DuplicatePolicy.SKIP, (2, 0, 4, 0), 3),
        (DuplicatePolicy.UPDATE, (2, 4, 0, 0), 3),
        (DuplicatePolicy.MERGE, (2, 4, 0, 0), 3),
        (DuplicatePolicy.CREATE_ANYWAY, (6, 0, 0, 0), 7),
    ],
)
async def test_rows_matching_stored_records_or_earlier_rows_follow_the_policy(
    db: OpenDatabase,
    policy: DuplicatePolicy,
    expected: tuple[int, int, int, int],
    contacts_after: int,
) -> None:
    actor = await new_agency()
    storage = LocalFolderStorage(Path(tempfile.mkdtemp(prefix="crm-import-test-")))
    ada = await contacts.create_contact(
        actor, {"first_name": "Ada", "emails": ["ada@example.com"], "job_title": "Countess"}
    )
    done = await run_import(actor, storage, PEOPLE, policy)
    assert counts(done) == expected
    assert await Contact.filter(agency_id=actor.agency_id).count() == contacts_after
    if policy in (DuplicatePolicy.UPDATE, DuplicatePolicy.MERGE):
        grace = await Contact.get(agency_id=actor.agency_id, first_name="Grace")
        assert grace.emails == ["grace@example.com", "g.hopper@navy.example"]
        assert grace.phones == ["+442079460001"]
        alan = await Contact.get(agency_id=actor.agency_id, first_name="Alan")
        assert alan.emails == ["alan@example.com"]
        stored = await Contact.get(id=ada.id)
        assert stored.last_name == "Lovelace"
        # MERGE fills only what is empty; UPDATE overwrites with the row's non-empty cells.
        assert stored.company_name == "Analytical"
        assert stored.job_title == "Countess"
    # Every record the import made is one the detector finds again (its keys were written).
    probe = Probe(
        RecordType.CONTACT,
        first_name="Alan",
        last_name="Turing",
        company="Bletchley Park",
        emails=("alan@example.com",),
    )
    [matches] = await find_duplicates(actor.agency_id, [probe])
    assert len(matches) == (2 if policy is DuplicatePolicy.CREATE_ANYWAY else 1)


async def test_a_batch_of_rows_costs_the_same_few_statements_whatever_its_size(
    db: OpenDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    actor = await new_agency()
    stored = [
        Contact(
            agency_id=actor.agency_id,
            first_name=f"Stored{n}",
            last_name=f"Person{n}",
            emails=[f"stored{n}@example.com"],
        )
        for n in range(50)
    ]
    await Contact.bulk_create(stored)
    from db.duplicates import DuplicateKey

    await DuplicateKey.bulk_create(duplicate_key_rows(stored))

    def batch(size: int) -> list[Probe]:
        return [
            Probe(
                RecordType.CONTACT,
                first_name=f"Stored{n}" if n < 50 else f"New{n}",
                last_name=f"Person{n}",
                emails=(f"stored{n}@example.com",),
            )
            for n in range(size)
        ]

    async def statements(size: int) -> tuple[int, int]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            found = await find_duplicates(actor.agency_id, batch(size))
        matched = sum(1 for matches in found if matches)
        return sum(1 for r in caplog.records if r.name == "tortoise.db_client"), matched

    small, matched_small = await statements(5)
    large, matched_large = await statements(500)
    assert (matched_small, matched_large) == (5, 50)
    assert small == large <= 5, f"{small} statements for 5 rows, {large} for 500"


def _event_types(events: list[Event]) -> list[str]:
    return sorted(e.type for e in events)


async def test_imported_contacts_are_announced_and_start_the_new_contact_flow(
    flows: Flows,
) -> None:
    actor = flows.actor
    storage = flows.documents
    text = "First name,Last name,Email,Phone,Company\nAda,Lovelace,ada@example.com,,\n"
    done = await run_import(actor, storage, text, DuplicatePolicy.SKIP)
    ada = await Contact.get(agency_id=flows.agency_id, first_name="Ada")
    [created] = await Event.filter(aggregate_type="contact", aggregate_id=str(ada.id))
    assert created.type == "contact.created"
    payload: dict[str, Any] = created.payload
    assert payload["import_id"] == str(done.id)
    assert (payload["source"], payload["emails"]) == (f"import:{done.id}", ["ada@example.com"])

    # Enrolled like a contact created through the API: the nurture starts and sends its welcome.
    row = await flows.run_row("contact-nurture", ada)
    assert row.trigger_event_id == created.id
    await flows.relay_all()
    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        await flows.reach(nurture, "wait-for-interest")
    assert [m.rcpt_tos for m in flows.smtp.messages] == [["ada@example.com"]]

    # An import told not to start flows still announces its records (and its updates).
    text = (
        "First name,Last name,Email,Phone,Company\n"
        "Grace,Hopper,grace@example.com,,\n"
        "Ada,Lovelace,ada@example.com,+44 20 7946 0018,\n"
    )
    quiet = await run_import(actor, storage, text, DuplicatePolicy.MERGE, start_flows=False)
    assert counts(quiet) == (1, 1, 0, 0)
    grace = await Contact.get(agency_id=flows.agency_id, first_name="Grace")
    events = await Event.filter(
        aggregate_type="contact", aggregate_id__in=[str(grace.id), str(ada.id)]
    )
    assert _event_types(events) == ["contact.created", "contact.created", "contact.updated"]
    [updated] = [e for e in events if e.type == "contact.updated"]
    assert updated.payload == {
        "changes": {"phones": ["+442079460018"]},
        "import_id": str(quiet.id),
    }
    assert not await FlowRunRow.filter(record_id=str(grace.id)).exists()
