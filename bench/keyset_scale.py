"""The contacts list at a million rows on PostgreSQL: a filtered keyset page (status, a tag and
an owner), ordered by creation and by a custom field, timed at two sizes of one database.

The custom field starts unsortable, so at the first size its ordering is timed as the value
table serves it; then the admin marks it sortable (`update_custom_field`), the backfill fills
its sort keys (`fill_every_field`, timed), and every size is timed reading the sort-key index.
Rows seeded after the marking carry their sort key, as the write path would give them.

The rows are written by the database itself (`generate_series` into a seed table, then one
`INSERT ... SELECT` per table), not through the API or the ORM: a million contacts, their tag
index and their custom field values load in about a minute instead of an hour. What is timed
is the domain service the API calls (`domain.contacts.list_contacts`), with the scope, filter
and keyset code it runs for every request; `EXPLAIN (ANALYZE)` of its page statement, taken
from Tortoise's statement log, shows which indexes the plan uses.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from bench.load import ADMIN_PASSWORD, CONTACT_STATUSES, DELETED_EVERY, TAG_NAMES, add_owners
from bench.timings import percentile
from db.connection import database, migrate
from db.custom_fields import CustomField
from db.tags import Tag
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.contacts import NEWEST_FIRST, list_contacts
from domain.custom_field_queries import CustomFieldOrdering
from domain.custom_field_sort_keys import fill_every_field
from domain.custom_fields import update_custom_field
from domain.pagination import Ordering
from domain.roles import Role

SIZES = (100_000, 1_000_000)
# An agency of its own, so the run can share a database with the rest of the benchmark.
SCALE_ADMIN_EMAIL = "admin@scale.example.com"
SCORE_KEY = "score"
# Each tag is on about 3 contacts in 10, independently of status and owner.
TAG_PERCENT = 30
# One contact in ten has no score (sorted last, as the API sorts missing values).
NO_SCORE_EVERY = 10
SEED_BATCH = 250_000
GOAL_P99_MS = 50.0
VALUE_TABLE_REPETITIONS = 50  # the unsortable field's ordering, at the first size (0 skips it)


@dataclass(frozen=True)
class PageTiming:
    ordering: str  # "created", "custom field" (its sort key) or "custom field, value table"
    page: str  # "first" or "deep" (the page after 10 pages of cursors)
    contacts: int
    matching: int  # contacts the filter selects, of which the page shows 100
    samples: int
    median_ms: float
    p99_ms: float


@dataclass(frozen=True)
class KeysetScaleResult:
    sizes: tuple[int, ...]
    seed_seconds: list[float]  # per size, the rows added to reach it
    timings: list[PageTiming]
    indexes_used: dict[str, list[str]]  # ordering -> index names in its plan at the last size
    plans: dict[str, str]  # ordering -> EXPLAIN (ANALYZE) text at the last size
    # Before the field was sortable (first size only): outside the goal, for comparison.
    value_table: list[PageTiming]
    fill_seconds: float
    index_definitions: dict[
        str, str
    ]  # index name in a plan -> its CREATE INDEX  # the backfill of the sort keys at the first size
    goal_p99_ms: float = GOAL_P99_MS

    def worst_p99_ms(self, contacts: int) -> float:
        return max(t.p99_ms for t in self.timings if t.contacts == contacts)

    def growth(self) -> float:
        """p99 at the largest size over p99 at the smallest, worst case of each."""
        return round(self.worst_p99_ms(self.sizes[-1]) / self.worst_p99_ms(self.sizes[0]), 2)


@dataclass(frozen=True)
class _Agency:
    actor: Actor
    owner_ids: list[UUID]
    tag_ids: list[UUID]
    score_field_id: UUID


async def _agency() -> _Agency:
    agency, admin, _ = await bootstrap_agency(
        "Scale Agency", "scale", SCALE_ADMIN_EMAIL, "Scale Admin", ADMIN_PASSWORD
    )
    owner_ids = await add_owners(admin, "scale.example.com")
    tags = [Tag(id=uuid4(), agency_id=agency.id, name=name, key=name) for name in TAG_NAMES]
    await Tag.bulk_create(tags)
    score = await CustomField.create(
        id=uuid4(),
        agency_id=agency.id,
        record_type="contact",
        key=SCORE_KEY,
        label="Score",
        type="number",
    )
    actor = Actor(
        agency_id=agency.id,
        id=f"user:{admin.id}",
        user_id=admin.id,
        roles=frozenset({Role.ADMIN}),
    )
    return _Agency(actor, [admin.id, *owner_ids], [t.id for t in tags], score.id)


# Contact n: status n mod 4, owner n mod 21 (coprime, so every pair occurs), tag t when a hash
# of (n, t) falls in TAG_PERCENT, created one second after contact n - 1.
_SEED = """
CREATE TEMP TABLE seed ON COMMIT DROP AS
SELECT n, gen_random_uuid() AS id,
       ARRAY(SELECT t FROM generate_series(0, {tags} - 1) t
             WHERE abs(hashint4(n * 8 + t)) % 100 < {tag_percent}) AS tag_numbers
FROM generate_series($1::int, $2::int - 1) n;

INSERT INTO contact (id, agency_id, first_name, last_name, emails, phones, company_name,
    job_title, street, city, region, postal_code, country, source, tags, owner_id, notes,
    status, created_at, updated_at, deleted_at, search_text, {sort_column})
SELECT s.id, $3, 'First' || n, 'Last' || n,
    jsonb_build_array('person' || n || '@scale.example.com'),
    '[]'::jsonb, 'Company ' || (n % 1000), '', '', '', '', '', '', '',
    (SELECT coalesce(jsonb_agg(($4::text[])[t + 1] ORDER BY ($4::text[])[t + 1]), '[]'::jsonb)
       FROM unnest(s.tag_numbers) t),
    ($5::uuid[])[n % {owners} + 1], '', ($6::text[])[n % {statuses} + 1],
    $7::timestamptz + n * interval '1 second', $7::timestamptz + n * interval '1 second',
    CASE WHEN n % {deleted_every} = 0 THEN $7::timestamptz END,
    lower('first' || n || E'\\nlast' || n || E'\\ncompany ' || (n % 1000)),
    CASE WHEN $10 AND n % {no_score_every} <> 0 THEN abs(hashint4(n)) % 100000 END
FROM seed s;

INSERT INTO record_tag (id, agency_id, tag_id, record_type, record_id)
SELECT gen_random_uuid(), $3, ($8::uuid[])[t + 1], 'contact', s.id
FROM seed s, unnest(s.tag_numbers) t
WHERE s.n % {deleted_every} <> 0;

INSERT INTO custom_field_value (id, agency_id, field_id, record_type, record_id, number_value)
SELECT gen_random_uuid(), $3, $9, 'contact', s.id, abs(hashint4(n)) % 100000
FROM seed s
WHERE s.n % {no_score_every} <> 0;
"""


async def _seed(
    url: str, agency: _Agency, start: int, stop: int, epoch: datetime, sortable: bool
) -> None:
    """Contacts start..stop-1 with their tag index and scores (and the scores' sort keys once
    the field is sortable), in batches of SEED_BATCH."""
    statements = _SEED.format(
        tags=len(TAG_NAMES),
        tag_percent=TAG_PERCENT,
        owners=len(agency.owner_ids),
        statuses=len(CONTACT_STATUSES),
        deleted_every=DELETED_EVERY,
        no_score_every=NO_SCORE_EVERY,
        sort_column=SORT_COLUMN,
    ).split(";\n")
    connection = await asyncpg.connect(url)
    try:
        for low in range(start, stop, SEED_BATCH):
            high = min(low + SEED_BATCH, stop)
            arguments: list[Any] = [
                low,
                high,
                agency.actor.agency_id,
                TAG_NAMES,
                agency.owner_ids,
                CONTACT_STATUSES,
                epoch,
                agency.tag_ids,
                agency.score_field_id,
                sortable,
            ]
            async with connection.transaction():
                for statement in filter(str.strip, statements):
                    sql, values = _bound(statement, arguments)
                    await connection.execute(sql, *values)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def _bound(statement: str, arguments: Sequence[Any]) -> tuple[str, list[Any]]:
    """The statement with its own placeholders renumbered from $1, and their arguments:
    PostgreSQL wants every parameter of a statement used in it."""
    used = sorted({int(n) for n in re.findall(r"\$(\d+)", statement)})
    number = {n: k for k, n in enumerate(used, start=1)}
    renumbered = re.sub(r"\$(\d+)", lambda m: f"${number[int(m.group(1))]}", statement)
    return renumbered, [arguments[n - 1] for n in used]


class _StatementLog(logging.Handler):
    """The statements Tortoise sends (it logs each at DEBUG on `tortoise.db_client`)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, Sequence[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str):
            values = args[1]
            self.statements.append((args[0], values if isinstance(values, Sequence) else ()))


# The column the score takes when marked: the agency's first number-like sortable field.
SORT_COLUMN = "sort_number_1"
BY_SCORE = CustomFieldOrdering(SCORE_KEY, descending=True)
ORDERINGS: dict[str, Ordering | CustomFieldOrdering] = {
    "created": NEWEST_FIRST,
    "custom field": BY_SCORE,
}


def _criteria(agency: _Agency) -> dict[str, Any]:
    return {"status_in": ["hot"], "tags": ["vip"], "owner_id": agency.owner_ids[3]}


async def _deep_cursor(agency: _Agency, ordering: Ordering | CustomFieldOrdering) -> str | None:
    after: str | None = None
    for _ in range(10):
        page = await list_contacts(agency.actor, 100, after, _criteria(agency), ordering)
        if not page.has_next_page:
            break
        after = page.cursors[-1]
    return after


async def _matching(agency: _Agency) -> int:
    contacts = Tortoise.get_connection("default")
    [row] = await contacts.execute_query_dict(
        "SELECT count(*) AS n FROM contact c WHERE c.agency_id = $1 AND c.deleted_at IS NULL "
        "AND c.status = 'hot' AND c.owner_id = $2 AND c.id IN (SELECT record_id FROM "
        "record_tag WHERE tag_id = $3)",
        [agency.actor.agency_id, agency.owner_ids[3], agency.tag_ids[TAG_NAMES.index("vip")]],
    )
    return int(row["n"])


async def _time_pages(
    agency: _Agency,
    contacts: int,
    repetitions: int,
    orderings: dict[str, Ordering | CustomFieldOrdering] = ORDERINGS,
) -> list[PageTiming]:
    """Every ordering's first and deep page, timed in turn within each repetition, so the
    shared machine's load changes weigh on them alike."""
    matching = await _matching(agency)
    criteria = _criteria(agency)
    variants: list[tuple[str, str, Ordering | CustomFieldOrdering, str | None]] = []
    for name, ordering in orderings.items():
        variants.append((name, "first", ordering, None))
        variants.append((name, "deep", ordering, await _deep_cursor(agency, ordering)))
    for _name, _page, ordering, after in variants:
        for _ in range(3):  # warm the caches, as a page viewed before would be
            await list_contacts(agency.actor, 100, after, criteria, ordering)
    seconds: list[list[float]] = [[] for _ in variants]
    for _ in range(repetitions):
        for taken, (_name, _page, ordering, after) in zip(seconds, variants, strict=True):
            started = time.perf_counter()
            await list_contacts(agency.actor, 100, after, criteria, ordering)
            taken.append(time.perf_counter() - started)
    return [
        PageTiming(
            ordering=name,
            page=page,
            contacts=contacts,
            matching=matching,
            samples=repetitions,
            median_ms=round(percentile(taken, 50) * 1000, 2),
            p99_ms=round(percentile(taken, 99) * 1000, 2),
        )
        for taken, (name, page, _ordering, _after) in zip(seconds, variants, strict=True)
    ]


async def _plans(agency: _Agency) -> dict[str, str]:
    """EXPLAIN (ANALYZE) of each ordering's page statement, as the service sends it."""
    log = logging.getLogger("tortoise.db_client")
    handler, level = _StatementLog(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    plans: dict[str, str] = {}
    connection = Tortoise.get_connection("default")
    try:
        for name, ordering in ORDERINGS.items():
            handler.statements.clear()
            await list_contacts(agency.actor, 100, None, _criteria(agency), ordering)
            sql, values = next(
                (s, v) for s, v in reversed(handler.statements) if 'FROM "contact"' in s
            )
            rows = await connection.execute_query_dict(
                f"EXPLAIN (ANALYZE, BUFFERS) {sql}", list(values)
            )
            plans[name] = "\n".join(str(r["QUERY PLAN"]) for r in rows)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    return plans


async def _index_definitions(names: list[str]) -> dict[str, str]:
    """What each index a plan names is on (its names are hashes)."""
    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY($1::text[])", [names]
    )
    return {str(row["indexname"]): str(row["indexdef"]) for row in rows}


def indexes_in(plan: str) -> list[str]:
    """Index names a plan scans (`Index Scan using x on ...`, `Index Only Scan using x`)."""
    found: list[str] = []
    for line in plan.splitlines():
        if " using " in line and "Index" in line:
            name = line.split(" using ", 1)[1].split()[0]
            if name not in found:
                found.append(name)
    return found


async def _mark_sortable(agency: _Agency) -> float:
    """The admin marks the score sortable; the backfill job fills every key. Its seconds."""
    started = time.perf_counter()
    field = await update_custom_field(agency.actor, agency.score_field_id, {"sortable": True})
    assert field.sort_column == SORT_COLUMN, field.sort_column
    await fill_every_field(lambda _field, _progress: None)
    return round(time.perf_counter() - started, 1)


async def keyset_scale_benchmark(
    url: str,
    sizes: Sequence[int] = SIZES,
    repetitions: int = 200,
    value_table_repetitions: int = VALUE_TABLE_REPETITIONS,
) -> KeysetScaleResult:
    """Load the first size, time the unsortable field's ordering, mark it sortable (timing
    the backfill), time; grow to the next size, time again; explain at the last.

    The database may hold other agencies (the benchmark's own): every index here leads with
    the agency."""
    async with TortoiseContext():
        await migrate(url)
    epoch = datetime.now(UTC) - timedelta(seconds=max(sizes) + 86_400)
    timings: list[PageTiming] = []
    value_table: list[PageTiming] = []
    seed_seconds: list[float] = []
    fill_seconds = 0.0
    async with database(url):
        agency = await _agency()
        loaded = 0
        for size in sizes:
            started = time.perf_counter()
            await _seed(url, agency, loaded, size, epoch, sortable=loaded > 0)
            seed_seconds.append(round(time.perf_counter() - started, 1))
            if loaded == 0:
                if value_table_repetitions:
                    value_table = await _time_pages(
                        agency,
                        size,
                        value_table_repetitions,
                        {"custom field, value table": BY_SCORE},
                    )
                fill_seconds = await _mark_sortable(agency)
            loaded = size
            timings += await _time_pages(agency, size, repetitions)
        plans = await _plans(agency)
        definitions = await _index_definitions(
            [name for plan in plans.values() for name in indexes_in(plan)]
        )
    return KeysetScaleResult(
        sizes=tuple(sizes),
        seed_seconds=seed_seconds,
        timings=timings,
        indexes_used={name: indexes_in(plan) for name, plan in plans.items()},
        plans=plans,
        value_table=value_table,
        fill_seconds=fill_seconds,
        index_definitions=definitions,
    )


def main() -> None:
    """`python -m bench.keyset_scale [SIZE ...]`: this benchmark alone, on a throwaway
    PostgreSQL server; prints the timings, the plans and the indexes they use, as JSON."""
    import asyncio
    import dataclasses
    import json
    import sys

    from db.throwaway_postgres import throwaway_postgres

    sizes = tuple(int(arg) for arg in sys.argv[1:]) or SIZES
    with throwaway_postgres() as cluster:

        async def run() -> KeysetScaleResult:
            await cluster.execute('CREATE DATABASE "keyset"')
            return await keyset_scale_benchmark(cluster.url("keyset"), sizes, repetitions=50)

        result = asyncio.run(run())
    sys.stdout.write(json.dumps(dataclasses.asdict(result), indent=2) + "\n")


if __name__ == "__main__":
    main()
