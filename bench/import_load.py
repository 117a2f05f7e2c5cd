"""Import rows per second: one CSV and one XLSX file of new contacts, each imported whole.

The path is the one every import takes (`domain.imports`, `domain.import_runs`): store and
read the file (header, row count, limits), then batches of rows, each in one
transaction with its counts, audit row and event. It runs in this process, as `crm import`
does; a worker adds one activity call per 20 batches, nothing per row. The files are written
before the clock starts. The people are generated (`bench.people`: syllable names, companies),
each with an address of their own, so the duplicate detector does its real work on every
row (name blocks of realistic sizes) and finds only the namesakes at the same company that
the generator makes now and then: those rows are skipped (policy SKIP). At the end every
row must be one new contact or one skipped duplicate, or the run is a `BenchmarkError`.
"""

from __future__ import annotations

import csv
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from bench.client import BenchmarkError
from bench.people import people
from db.connection import database
from db.contacts import Contact
from domain import import_runs, imports
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.import_files import ImportLimits
from domain.imports import DuplicatePolicy
from domain.storage import LocalFolderStorage

ROWS = 100_000
HEADER = ["First name", "Last name", "Email", "Company", "City"]
MAPPING = {
    "First name": "first_name",
    "Last name": "last_name",
    "Email": "email",
    "Company": "company_name",
    "City": "city",
}


@dataclass(frozen=True)
class ImportLoadResult:
    rows: int
    csv_seconds: float
    csv_rows_per_second: float
    xlsx_seconds: float
    xlsx_rows_per_second: float
    contacts_created: int
    exact: bool
    duplicates_skipped: int = 0


def _rows(prefix: str, count: int) -> list[list[str]]:
    seed = 17 if prefix == "csv" else 18
    return [
        [
            person.first_name,
            person.last_name,
            f"{prefix}{n}@import.example.com",
            person.company,
            "Leeds",
        ]
        for n, person in enumerate(people(count, seed))
    ]


def write_files(workdir: Path, rows: int) -> tuple[Path, Path]:
    people_csv, people_xlsx = workdir / "people.csv", workdir / "people.xlsx"
    with people_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(_rows("csv", rows))
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in _rows("xlsx", rows):
        sheet.append(row)
    book.save(people_xlsx)
    return people_csv, people_xlsx


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(256 * 1024):
            yield chunk


async def _import(actor: Actor, storage: LocalFolderStorage, path: Path) -> tuple[float, int, int]:
    limits = ImportLimits(max_bytes=1024**3, max_rows=10_000_000)
    started = time.perf_counter()
    preview = await imports.upload_import(
        actor, storage, limits, "contact", path.name, _chunks(path)
    )
    record = await imports.start_import(
        actor, preview.record_import.id, MAPPING, DuplicatePolicy.SKIP, by_workflow=False
    )
    progress = await import_runs.import_rows(storage, limits, record.id, lambda *_: None, 10**9)
    seconds = time.perf_counter() - started
    if progress.status != "completed" or progress.failed:
        raise BenchmarkError(f"import of {path.name}: {progress}")
    return seconds, progress.created, progress.skipped


async def import_benchmark(database_url: str, workdir: Path, rows: int = ROWS) -> ImportLoadResult:
    people_csv, people_xlsx = write_files(workdir, rows)
    storage = LocalFolderStorage(workdir / "import-storage")
    slug = f"imports-{uuid.uuid4().hex[:8]}"
    async with database(database_url):
        agency, _, _ = await bootstrap_agency(
            "Import bench", slug, f"admin@{slug}.bench.example.com", "Bench", "bench-password-1"
        )
        actor = Actor.system(agency.id, "bench")
        csv_seconds, from_csv, skipped_csv = await _import(actor, storage, people_csv)
        xlsx_seconds, from_xlsx, skipped_xlsx = await _import(actor, storage, people_xlsx)
        created = await Contact.filter(agency_id=agency.id).count()
    return ImportLoadResult(
        rows=rows,
        csv_seconds=round(csv_seconds, 2),
        csv_rows_per_second=round(rows / csv_seconds, 1),
        xlsx_seconds=round(xlsx_seconds, 2),
        xlsx_rows_per_second=round(rows / xlsx_seconds, 1),
        contacts_created=created,
        exact=created == from_csv + from_xlsx == 2 * rows - skipped_csv - skipped_xlsx,
        duplicates_skipped=skipped_csv + skipped_xlsx,
    )
