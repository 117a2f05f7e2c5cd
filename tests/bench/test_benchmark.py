"""The benchmark at a tiny scale, so it cannot rot: on SQLite and PostgreSQL it loads, agrees
with the hand SQL, times both and lists the service desk's queue page; on SQLite it also
serves real requests over loopback (one API process and `crm serve --workers 2`, and
`contact(id)` beside a bare Strawberry app), sends a broadcast and takes public campaign
sign-ups with exact counters (`served_databases`); on PostgreSQL it also grows an agency
from 2,000 to 4,000 contacts and times the filtered keyset page at each (`keyset_sizes`,
which `make bench` runs at 100,000 and 1,000,000), and explains its plan."""

from __future__ import annotations

import json
from pathlib import Path

from bench.benchmark import DatabaseResult, Options, benchmark_database
from bench.report import (
    broadcast_table,
    duplicate_table,
    floor_table,
    goals_table,
    import_table,
    keyset_table,
    sign_up_table,
    table,
    ticket_table,
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
    tickets=120,
    keyset_sizes=(2_000, 4_000),  # PostgreSQL only: a few contacts match the filter
    keyset_repetitions=3,
    keyset_value_table_repetitions=2,
    # Skipped here, on purpose: it starts a Temporal dev server and a `crm worker` of its own
    # (about a minute on this machine, most of the tiny run again). The flow-run history it
    # depends on is tested in tests/integration/test_flow_runs.py (the year-long sequence).
    sleeping_runs=0,
    # Skipped for the same reason (a dev server and a worker of its own): it runs at 20 tickets
    # with targets of seconds in tests/bench/test_sla_timers.py.
    sla_tickets=0,
    # Skipped here too (another `crm serve` and websockets, seconds of the tiny run's time):
    # live delivery to subscribers is tested in tests/e2e/test_event_subscriptions.py and, across
    # processes, test_event_fan_out.py.
    subscribers=0,
    import_rows=20,
    duplicate_contacts=60,
    duplicate_probes=8,
    duplicate_databases=("sqlite", "postgres"),
    # The served phases (processes of `crm serve` and `crm worker`, most of this run's time) on
    # SQLite only: the code that drives them is the same for both databases, and the API on
    # PostgreSQL is served in tests/e2e (test_event_fan_out.py, test_concurrent_writes.py, ...).
    served_databases=("sqlite",),
)


async def test_the_benchmark_runs_and_graphql_and_sql_agree(
    database_source: DatabaseSource, database_url: str, tmp_path: Path
) -> None:
    result = await benchmark_database(database_source.backend, database_url, TINY, tmp_path)

    assert result.matched
    assert result.rows == 100
    assert result.ratio > 0
    assert result.sql.samples == result.graphql.samples == TINY.repetitions
    if database_source.backend == "postgres":
        # Not served here (`served_databases`): nothing of the served phases is reported.
        assert (result.load, result.load_workers, result.floor) == (None, None, None)
        assert (result.writes, result.broadcast, result.sign_ups) == ([], None, None)
        assert "-" in table([result])
        assert "pages/s" not in goals_table([result])
    else:
        _check_served(result)
    desk = result.tickets
    assert desk is not None
    assert desk.tickets == TINY.tickets
    assert desk.rows == min(50, desk.open_urgent) > 0
    assert desk.latency.samples == TINY.repetitions
    if database_source.backend == "postgres":
        keyset = result.keyset
        assert keyset is not None
        assert [(t.contacts, t.samples) for t in keyset.timings] == [
            (size, TINY.keyset_repetitions) for size in TINY.keyset_sizes for _ in range(4)
        ]
        assert all(t.matching > 0 for t in keyset.timings)
        assert [(t.ordering, t.samples) for t in keyset.value_table] == [
            ("custom field, value table", 2)
        ] * 2
        assert set(keyset.plans) == {"created", "custom field"}
        # Marked sortable, the field's page reads its sort-key index.
        used = keyset.indexes_used["custom field"]
        assert any("sort_number_1" in keyset.index_definitions[name] for name in used), used
        assert "contact" in keyset_table([result])
    else:
        assert result.keyset is None
    assert (result.sleeping_flows, result.sla_timers, result.subscribers) == (None, None, [])
    imported = result.imports
    assert imported is not None
    assert imported.exact
    assert imported.csv_rows_per_second > 0
    assert imported.xlsx_rows_per_second > 0
    assert "XLSX rows/s" in import_table([result])
    duplicates = result.duplicates
    assert duplicates is not None
    assert duplicates.contacts == TINY.duplicate_contacts
    assert duplicates.keys >= 3 * TINY.duplicate_contacts
    assert duplicates.one_at_a_time.samples == duplicates.probes == TINY.duplicate_probes
    assert duplicates.recall > 0

    written = write_json(TINY, [result], tmp_path / "results")
    assert json.loads(written.read_text())["results"][0]["ratio"] == result.ratio
    assert database_source.backend in table([result])
    assert "queue page" in ticket_table([result])
    assert "batch ms/record" in duplicate_table([result])


def _check_served(result: DatabaseResult) -> None:
    """The phases that start `crm serve` and `crm worker`: load, floor, writes, broadcast and
    sign-ups, each with no failure."""
    load, load_workers, floor = result.load, result.load_workers, result.floor
    assert load is not None
    assert load_workers is not None
    assert floor is not None
    assert load.requests_per_second > 0
    assert load.failures == 0, load.first_failure
    assert load_workers.requests_per_second > 0
    assert load_workers.failures == 0, load_workers.first_failure
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
    assert writes.create_latency.samples > 0
    assert "createContact" in goals_table([result])
    assert "hello" in floor_table([result])
    assert "writes/s" in write_table([result])
    assert "duplicates" in broadcast_table([result])
    assert "sign-ups/s" in sign_up_table([result])
