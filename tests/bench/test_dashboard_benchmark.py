"""The dashboard benchmark at a tiny scale, so it cannot rot: it loads with generate_series
(PostgreSQL only, as the benchmark is) and times every dashboard for every viewer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench.dashboard_load import QUERIES, YEAR, dashboard_benchmark, dashboard_table
from db.contacts import Contact
from db.deals import Deal
from db.tickets import Ticket
from tests.fixtures.databases import DatabaseSource, OpenDatabase


@pytest.fixture
def database_source(request: pytest.FixtureRequest) -> DatabaseSource:
    return DatabaseSource(
        "postgres",
        postgres=request.getfixturevalue("postgres_cluster"),
        template=request.getfixturevalue("postgres_template"),
    )


async def test_the_dashboard_benchmark_loads_and_times_every_dashboard(db: OpenDatabase) -> None:
    result = await dashboard_benchmark(contacts=300, deals=120, tickets=60, repetitions=1, warmup=0)

    assert (await Contact.all().count(), await Deal.all().count()) == (300, 120)
    assert await Ticket.all().count() == 60
    # The generated deals spread over the stages and the year: some are won in it.
    won = Deal.filter(
        status="won",
        closed_at__gte=datetime(2026, 1, 1, tzinfo=UTC),
        closed_at__lt=datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert YEAR.start.year == 2026
    assert await won.count() > 0
    timed = {(row.query.split(" ")[0], row.viewer) for row in result.timings}
    assert timed == {(name, viewer) for name, (_, who) in QUERIES.items() for viewer in who}
    assert all(row.timing.samples == 1 for row in result.timings)
    assert "| salesHeadDashboard (year by month) | admin |" in dashboard_table(result)
