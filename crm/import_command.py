"""`crm import FILE --mapping M.json`: the same import as the API's, run in this process with
a progress bar (no worker needed). The batches are the workflow's (`domain.import_runs`), so
an interrupted command leaves only whole batches, each listed in the audit log."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from crm.settings import Settings
from db.agencies import Agency
from db.connection import database
from db.users import User
from domain import import_runs, imports
from domain.actors import Actor
from domain.errors import DomainError, DomainErrors, errors_of
from domain.imports import DuplicatePolicy
from domain.roles import Role
from domain.users import team_of

BAR_WIDTH = 30
CHUNK_BYTES = 256 * 1024


def progress_bar(counts: dict[str, int]) -> str:
    """`[#####.....] 500/1000 rows  created 450  updated 20  skipped 10  failed 20`."""
    total, done = counts["total_rows"], counts["rows_done"]
    filled = BAR_WIDTH * done // total if total else BAR_WIDTH
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} rows  "
        f"created {counts['created']}  updated {counts['updated']}  "
        f"skipped {counts['skipped']}  failed {counts['failed']}"
    )


async def _actor(agency: str, email: str | None) -> Actor:
    """The user of `--as` (their roles and team), or the agency's system actor."""
    found = await Agency.get_or_none(slug=agency)
    if found is None:
        try:
            found = await Agency.get_or_none(id=UUID(agency))
        except ValueError:
            found = None
    if found is None:
        raise LookupError(f"no agency with the slug or id {agency!r}")
    if email is None:
        return Actor.system(found.id, "cli-import")
    user = await User.get_or_none(agency_id=found.id, email=email.strip().lower())
    if user is None:
        raise LookupError(f"no user {email!r} in agency {agency!r}")
    return Actor(
        agency_id=found.id,
        id=f"user:{user.id}",
        user_id=user.id,
        roles=frozenset(Role(r) for r in user.roles),
        team=await team_of(user.id, found.id, user.org_unit_id),
    )


async def _chunks(path: Path) -> Any:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _mapping(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError('the mapping file must be a JSON object {"column": "field", ...}')
    return data


async def run_import(settings: Settings, arguments: argparse.Namespace, out: IO[str]) -> int:
    file: Path = arguments.file
    try:
        mapping = _mapping(arguments.mapping)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"crm import: {arguments.mapping}: {error}\n")
        return 2
    async with database(settings.database_url, settings.database_lock_wait):
        try:
            actor = await _actor(arguments.agency, arguments.as_user)
        except LookupError as error:
            sys.stderr.write(f"crm import: {error}\n")
            return 2
        storage, limits = settings.storage(), settings.import_limits()
        try:
            preview = await imports.upload_import(
                actor, storage, limits, arguments.record_type, file.name, _chunks(file)
            )
            started = await imports.start_import(
                actor,
                preview.record_import.id,
                mapping,
                DuplicatePolicy(arguments.duplicates),
                by_workflow=False,
                start_flows=not arguments.no_flows,
            )
        except (DomainError, DomainErrors) as error:
            for problem in errors_of(error):
                where = f" ({problem.field})" if problem.field else ""
                sys.stderr.write(f"crm import: {problem.code}{where}: {problem.message}\n")
            return 1
        shown = 0.0

        def draw(counts: dict[str, int]) -> None:
            nonlocal shown
            if time.monotonic() - shown >= 0.1 or counts["rows_done"] == counts["total_rows"]:
                sys.stderr.write("\r" + progress_bar(counts))
                sys.stderr.flush()
                shown = time.monotonic()

        draw(imports.counts_of(started))
        progress = await import_runs.import_rows(storage, limits, started.id, draw, sys.maxsize)
        sys.stderr.write("\n")
        done = await imports.RecordImport.get(id=started.id)
        out.write(f"import {done.id} {progress.status}: {progress_bar(imports.counts_of(done))}\n")
        if done.failed:
            _, report = await imports.error_report(actor, done.id)
            report_path = file.with_name(f"{file.name}.errors.csv")
            report_path.write_text(report, encoding="utf-8")
            out.write(f"{done.failed} row(s) not imported: see {report_path}\n")
    return 0
