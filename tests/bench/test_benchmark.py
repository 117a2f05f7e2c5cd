"""The benchmark at a tiny scale, so it cannot rot: it loads, agrees with the hand SQL, times
both, serves real requests over loopback (one API process and `crm serve --workers 2`, and
`contact(id)` beside a bare Strawberry app), sends a broadcast and takes public campaign
sign-ups with exact counters, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from bench.benchmark import Options, benchmark_database
from bench.report import (
    broadcast_table,
    duplicate_table,
    floor_table,
    sign_up_table,
    table,
    write_json,
    write_table,
)
from tests.fixtures.databases import DatabaseSource

TINY = Options(
    contacts=200,
    repetitions=3,
    warmup=1,
    seconds=0.5,
    concurrency=2,
    api_workers=2,
    write_seconds=0.5,
    writers=(2,),
    broadcast_recipients=30,
    sign_up_seconds=0.5,
    sign_up_clients=2,
    duplicate_contacts=60,
    duplicate_probes=8,
    duplicate_databases=("sqlite", "postgres"),
)


async def test_the_benchmark_runs_and_graphql_and_sql_agree(
    database_source: DatabaseSource, database_url: str, tmp_path: Path
) -> None:
    result = await benchmark_database(database_source.backend, database_url, TINY, tmp_path)

    assert result.matched
    assert result.rows == 100
    assert result.ratio > 0
    assert result.sql.samples == result.graphql.samples == TINY.repetitions
    assert result.load.requests_per_second > 0
    assert result.load.failures == 0, result.load.first_failure
    assert result.load_workers.requests_per_second > 0
    assert result.load_workers.failures == 0, result.load_workers.first_failure
    floor = result.floor
    assert floor.one_contact.failures == floor.hello.failures == 0
    assert floor.ratio == round(
        floor.one_contact.requests_per_second / floor.hello.requests_per_second, 3
    )
    [writes] = result.writes
    assert writes.writers == 2
    assert writes.requests > 0
    assert writes.writes_per_second > 0
    assert (writes.failures, writes.busy) == (0, 0), writes.first_failure

    broadcast = result.broadcast
    assert broadcast is not None
    assert broadcast.recipients == TINY.broadcast_recipients
    assert broadcast.messages_per_second > 0
    assert broadcast.restart_sent == TINY.broadcast_recipients
    assert broadcast.duplicates == 0

    sign_ups = result.sign_ups
    assert sign_ups is not None
    assert sign_ups.exact
    assert sign_ups.sign_ups_per_second > 0
    assert sign_ups.enrolments == sign_ups.people > 0
    assert sign_ups.views == sign_ups.sign_ups

    duplicates = result.duplicates
    assert duplicates is not None
    assert duplicates.contacts == TINY.duplicate_contacts
    assert duplicates.keys >= 3 * TINY.duplicate_contacts
    assert duplicates.one_at_a_time.samples == duplicates.probes == TINY.duplicate_probes
    assert duplicates.recall > 0

    written = write_json(TINY, [result], tmp_path / "results")
    assert json.loads(written.read_text())["results"][0]["ratio"] == result.ratio
    assert database_source.backend in table([result])
    assert "hello" in floor_table([result])
    assert "writes/s" in write_table([result])
    assert "duplicates" in broadcast_table([result])
    assert "sign-ups/s" in sign_up_table([result])
    assert "batch ms/record" in duplicate_table([result])
