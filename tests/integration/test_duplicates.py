"""Duplicate detection on a generated set with known duplicates (bench/people.py): precision
and recall, measured on SQLite and PostgreSQL, and the normalisation the keys rest on."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID, uuid4

import pytest

from bench.people import KINDS, as_probe, people, probes
from db.contacts import Contact
from db.duplicates import (
    DuplicateKey,
    contact_keys,
    duplicate_key_rows,
    email_key,
    phone_key,
    website_key,
)
from domain.agencies import bootstrap_agency
from domain.duplicates import find_duplicates
from tests.conftest import MEASURED
from tests.fixtures.databases import OpenDatabase

KNOWN = 400
DUPLICATES = 120
STRANGERS = 60


def test_keys_normalise_emails_phones_websites_and_names() -> None:
    assert email_key("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    assert email_key("A.da.L+crm@googlemail.com") == "adal@gmail.com"
    assert phone_key("020 7946 0958", "GB") == phone_key("+44 20 7946 0958") == "+442079460958"
    assert phone_key("020 7946 0958") == ""  # a national form needs the region
    assert website_key("https://www.Acme.com/about") == website_key("acme.com") == "acme.com"
    assert contact_keys("José", "Smith", [], []) == contact_keys("SMITH", "jose", [], [])


async def test_detection_precision_and_recall_on_known_duplicates(
    db: OpenDatabase, record_property: Callable[[str, object], None]
) -> None:
    agency, _, _ = await bootstrap_agency("Acme", "acme", "a@acme.example.com", "Ada", "pw" * 8)
    known = list(people(KNOWN))
    rows = [
        Contact(
            id=uuid4(),
            agency_id=agency.id,
            first_name=p.first_name,
            last_name=p.last_name,
            company_name=p.company,
            emails=list(p.emails),
            phones=list(p.phones),
        )
        for p in known
    ]
    await Contact.bulk_create(rows)
    await DuplicateKey.bulk_create(duplicate_key_rows(rows))
    ids: list[UUID] = [row.id for row in rows]
    cases = probes(known, DUPLICATES, STRANGERS)

    found = await find_duplicates(agency.id, [as_probe(c.person) for c in cases], region="GB")

    true_positives = false_positives = 0
    missed: dict[str, int] = dict.fromkeys(KINDS, 0)
    for case, matches in zip(cases, found, strict=True):
        matched = {m.record_id for m in matches}
        expected = {ids[case.of]} if case.of is not None else set()
        true_positives += len(matched & expected)
        false_positives += len(matched - expected)
        if expected - matched:
            missed[case.kind] += 1
    precision = true_positives / max(1, true_positives + false_positives)
    recall = true_positives / DUPLICATES
    report = (
        f"{db.backend}: precision {precision:.3f}, recall {recall:.3f} "
        f"({DUPLICATES} duplicates of {KNOWN} people, {STRANGERS} strangers; missed by kind "
        f"{missed})"
    )
    record_property(MEASURED, report)  # in the run's "measurements"; docs/duplicates.md
    assert precision >= 0.95, report
    assert recall >= 0.8, report


@pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)
async def test_a_batch_lookup_is_index_driven(db: OpenDatabase) -> None:
    """The exact keys of a whole batch cost one query; a name block one; never a scan of
    the contact table (checked on the query plan, SQLite)."""
    plan = await db.connection().execute_query_dict(
        "EXPLAIN QUERY PLAN SELECT record_id FROM duplicate_key "
        "WHERE agency_id = ? AND record_type = ? AND key IN (?, ?)",
        [str(uuid4()), "contact", "e:a@b.c", "p:+1"],
    )
    details = " ".join(row["detail"] for row in plan)
    assert "USING INDEX" in details, details
