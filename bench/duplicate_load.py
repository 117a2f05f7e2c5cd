"""Duplicate detection at scale: an agency of N generated contacts (bench/people.py) with their
duplicate keys, then the time `find_duplicates` takes per record, one record at a time (the
warning on a create) and in one batch (an import's rows), with the precision and recall it
reaches on the probes (variants of loaded people, and strangers)."""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from tortoise import Tortoise

from bench.people import Person, as_probe, people, probes
from bench.timings import Timing, timing
from db.connection import database
from db.contacts import Contact
from db.duplicates import DuplicateKey, contact_keys, duplicate_key_rows
from domain.agencies import bootstrap_agency
from domain.duplicates import find_duplicates

BATCH = 5_000
CONTACTS = 1_000_000
PROBES = 200


@dataclass(frozen=True)
class DuplicateResult:
    contacts: int
    keys: int
    load_seconds: float
    probes: int
    one_at_a_time: Timing  # per record
    batch_ms_per_record: float
    precision: float
    recall: float


def _contact(agency_id: UUID, person: Person) -> Contact:
    contact = Contact(
        id=uuid4(),
        agency_id=agency_id,
        first_name=person.first_name,
        last_name=person.last_name,
        company_name=person.company,
        emails=list(person.emails),
        phones=list(person.phones),
    )
    contact.refresh_search_text()  # bulk inserts skip `save`, which keeps it
    return contact


class _CopyRows:
    """Contact and key rows as COPY takes them, built without model instances: a Tortoise
    model costs a fifth of a millisecond to make, which a million rows would feel. The columns
    not named here take a template contact's values (its defaults)."""

    def __init__(self, agency_id: UUID) -> None:
        template = Contact(id=uuid4(), agency_id=agency_id, first_name="-")
        meta = Contact._meta
        self.agency_id = agency_id
        self.fields = meta.fields_map
        self.columns = list(meta.fields_db_projection.items())
        self.base = {
            name: self.fields[name].to_db_value(getattr(template, name), template)
            for name, _ in self.columns
        }
        self.contacts: list[tuple[Any, ...]] = []
        self.keys: list[tuple[Any, ...]] = []

    def add(self, person: Person) -> UUID:
        contact_id = uuid4()
        values = {
            **self.base,
            "id": contact_id,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "company_name": person.company,
            "emails": json.dumps(list(person.emails)),
            "phones": json.dumps(list(person.phones)),
        }
        self.contacts.append(tuple(values[name] for name, _ in self.columns))
        keys = contact_keys(person.first_name, person.last_name, person.emails, person.phones)
        self.keys.extend((self.agency_id, "contact", contact_id, key) for key in keys)
        return contact_id

    async def flush(self) -> int:
        client: Any = Tortoise.get_connection("default")
        async with client.acquire_connection() as connection:
            await connection.copy_records_to_table(
                "contact", records=self.contacts, columns=[c for _, c in self.columns]
            )
            await connection.copy_records_to_table(
                "duplicate_key",
                records=self.keys,
                columns=["agency_id", "record_type", "record_id", "key"],
            )
        written = len(self.keys)
        self.contacts, self.keys = [], []
        return written


async def _load(
    agency_id: UUID, count: int, sampled: set[int]
) -> tuple[dict[int, tuple[UUID, Person]], int]:
    """Contacts and their keys, in batches; returns the sampled people (probe targets)."""
    connection = Tortoise.get_connection("default")
    postgres = connection.capabilities.dialect == "postgres"
    kept: dict[int, tuple[UUID, Person]] = {}
    keys = 0
    batch: list[Contact] = []
    copy = _CopyRows(agency_id) if postgres else None
    for n, person in enumerate(people(count)):
        if copy is not None:
            contact_id = copy.add(person)
        else:
            batch.append(_contact(agency_id, person))
            contact_id = batch[-1].id
        if n in sampled:
            kept[n] = (contact_id, person)
        if (n + 1) % BATCH == 0 or n == count - 1:
            if copy is not None:
                keys += await copy.flush()
            else:
                rows = duplicate_key_rows(batch)
                await Contact.bulk_create(batch, batch_size=BATCH)
                await DuplicateKey.bulk_create(rows, batch_size=BATCH)
                keys += len(rows)
                batch = []
    await connection.execute_script("VACUUM ANALYZE" if postgres else "ANALYZE")
    return kept, keys


async def duplicate_benchmark(
    database_url: str, contacts: int = CONTACTS, probe_count: int = PROBES, seed: int = 17
) -> DuplicateResult:
    async with database(database_url):
        agency, _, _ = await bootstrap_agency(
            "Duplicates", f"dupes-{uuid4().hex[:6]}", f"{uuid4().hex[:8]}@dupes.example.com",
            "Dupe Admin", "bench-password-not-secret",
        )  # fmt: skip
        rng = random.Random(seed)
        sampled = set(rng.sample(range(contacts), min(contacts, probe_count)))
        started = time.perf_counter()
        kept, keys = await _load(agency.id, contacts, sampled)
        load_seconds = time.perf_counter() - started
        order = sorted(kept)
        known = [kept[n][1] for n in order]
        ids = [kept[n][0] for n in order]
        cases = probes(known, probe_count * 3 // 4, probe_count - probe_count * 3 // 4, seed)
        asked = [as_probe(case.person) for case in cases]
        seconds = []
        found = []
        for probe in asked:
            begun = time.perf_counter()
            found.extend(await find_duplicates(agency.id, [probe], region="GB"))
            seconds.append(time.perf_counter() - begun)
        single = timing(seconds)
        sys.stderr.write(f"duplicates: one record at a time {single} among {contacts:,}\n")
        begun = time.perf_counter()
        await find_duplicates(agency.id, asked, region="GB")
        batch_seconds = time.perf_counter() - begun
    hits = wrong = duplicates = 0
    for case, matches in zip(cases, found, strict=True):
        matched = {m.record_id for m in matches}
        expected = {ids[case.of]} if case.of is not None else set()
        duplicates += len(expected)
        hits += len(matched & expected)
        wrong += len(matched - expected)
    return DuplicateResult(
        contacts=contacts,
        keys=keys,
        load_seconds=round(load_seconds, 1),
        probes=len(asked),
        one_at_a_time=single,
        batch_ms_per_record=round(batch_seconds * 1000 / len(asked), 3),
        precision=round(hits / max(1, hits + wrong), 3),
        recall=round(hits / max(1, duplicates), 3),
    )
