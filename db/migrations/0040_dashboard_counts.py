"""Summary tables of the dashboards (contacts, deals and tickets per agency, owner, day and
status), kept by triggers in the writing transaction, and filled in from existing records.

The triggers upsert with increments (`ON CONFLICT ... DO UPDATE SET n = n + excluded.n`), so
concurrent writes to one key queue on its row and none is lost. PostgreSQL: one statement
trigger per event over the transition tables (a bulk insert of a million contacts upserts
once per key, in key order, so two writers lock keys in the same order); SQLite (one writer
at a time): row triggers. An update that changes no key nor summed value writes nothing.

On SQLite a later migration that alters or drops a column of contact, deal or ticket remakes
the table, which drops its triggers: that migration must create them again (`SUMMARIES`
here; tests/integration/test_dashboard_counts.py fails until it does).
"""

from dataclasses import dataclass
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

NO_OWNER = "00000000-0000-0000-0000-000000000000"
# A column of a summary row: its expression over a source row `{r}` on PostgreSQL and SQLite.
Column = tuple[str, str]


def same(expression: str) -> Column:
    return (expression, expression)


@dataclass
class _Part:
    """One contribution of a source row: its key and values, when `counted` holds."""

    keys: list[Column]
    values: list[Column]
    counted: str


@dataclass
class _Summary:
    """A summary table over a source table, and the source's columns that can change it."""

    table: str
    source: str
    key_names: list[str]
    value_names: list[str]
    parts: list[_Part]
    watched: list[str]

    def _columns(self) -> str:
        return ", ".join([*self.key_names, *self.value_names])

    def _conflict(self) -> str:
        keys = ", ".join(self.key_names)
        sets = ", ".join(f"{n} = {self.table}.{n} + excluded.{n}" for n in self.value_names)
        return f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"

    def _rows(self, postgres: bool, alias: str, sign: str) -> str:
        """A source's contributions (`sign` '' or '-'), as a SELECT over `alias` r."""
        index = 0 if postgres else 1
        selects = []
        for part in self.parts:
            keys = ", ".join(
                f"{column[index]} AS {name}" for name, column in zip(self.key_names, part.keys, strict=True)
            )
            values = ", ".join(
                f"{sign}({column[index]}) AS {name}"
                for name, column in zip(self.value_names, part.values, strict=True)
            )
            selects.append(f"SELECT {keys}, {values} FROM {alias} r WHERE {part.counted}")
        return " UNION ALL ".join(selects).replace("{r}", "r")

    def _grouped(self, postgres: bool, rows: str) -> str:
        keys = ", ".join(self.key_names)
        sums = ", ".join(f"SUM({name})" for name in self.value_names)
        nonzero = " OR ".join(f"SUM({name}) <> 0" for name in self.value_names)
        order = f" ORDER BY {keys}" if postgres else ""
        return (
            f"INSERT INTO {self.table} ({self._columns()}) SELECT {keys}, {sums} "
            f"FROM ({rows}) AS changes WHERE true GROUP BY {keys} HAVING {nonzero}{order} "
            f"{self._conflict()}"
        )

    def backfill(self, postgres: bool) -> str:
        return self._grouped(postgres, self._rows(postgres, self.source, ""))

    def postgres_triggers(self) -> list[str]:
        name = f"{self.table}_sync"
        inserted = self._grouped(True, self._rows(True, "new_rows", ""))
        deleted = self._grouped(True, self._rows(True, "old_rows", "-"))
        both = f"{self._rows(True, 'new_rows', '')} UNION ALL {self._rows(True, 'old_rows', '-')}"
        updated = self._grouped(True, both)
        function = (
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $body$ "
            f"BEGIN IF TG_OP = 'INSERT' THEN {inserted}; ELSIF TG_OP = 'DELETE' THEN {deleted}; "
            f"ELSE {updated}; END IF; RETURN NULL; END $body$"
        )
        tables = {
            "INSERT": "NEW TABLE AS new_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            "DELETE": "OLD TABLE AS old_rows",
        }
        return [function] + [
            f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {self.source} "
            f"REFERENCING {tables[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
            for event in tables
        ]

    def _sqlite_upserts(self, row: str, sign: str) -> str:
        statements = []
        for part in self.parts:
            keys = ", ".join(column[1] for column in part.keys)
            values = ", ".join(f"{sign}({column[1]})" for column in part.values)
            statements.append(
                f"INSERT INTO {self.table} ({self._columns()}) SELECT {keys}, {values} "
                f"WHERE {part.counted} {self._conflict()};".replace("{r}", row)
            )
        return " ".join(statements)

    def sqlite_triggers(self) -> list[str]:
        name = f"{self.table}_sync"
        changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in self.watched)
        return [
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {self.source} "
            f"BEGIN {self._sqlite_upserts('NEW', '')} END",
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON {self.source} "
            f"BEGIN {self._sqlite_upserts('OLD', '-')} END",
            f"CREATE TRIGGER {name}_update AFTER UPDATE ON {self.source} WHEN {changed} "
            f"BEGIN {self._sqlite_upserts('OLD', '-')} {self._sqlite_upserts('NEW', '')} END",
        ]


def _day(column: str) -> Column:
    """The UTC day of a datetime column."""
    return (f"({{r}}.{column} AT TIME ZONE 'UTC')::date", f"date({{r}}.{column})")


def _milliseconds(since: str, until: str) -> Column:
    return (
        f"COALESCE(round(EXTRACT(EPOCH FROM ({{r}}.{until} - {{r}}.{since})) * 1000)::bigint, 0)",
        f"COALESCE(CAST(round((julianday({{r}}.{until}) - julianday({{r}}.{since})) * 86400000)"
        " AS INTEGER), 0)",
    )


def _owner(column: str) -> Column:
    return (
        f"COALESCE({{r}}.{column}, '{NO_OWNER}'::uuid)",
        f"COALESCE({{r}}.{column}, '{NO_OWNER}')",
    )


AGENCY = same("{r}.agency_id")
LIVE = "{r}.deleted_at IS NULL"
ONE, NOTHING, EMPTY = same("1"), same("0"), same("''")


def _ticket(figure: str, day: Column, counted: str, total: Column = NOTHING) -> _Part:
    """A ticket's contribution to one figure (status and priority only key `open`)."""
    return _Part(
        [AGENCY, _owner("assignee_id"), same(f"'{figure}'"), day, EMPTY, EMPTY],
        [ONE, total],
        f"{LIVE} AND {counted}",
    )


SUMMARIES = [
    _Summary(
        "contact_day_count",
        "contact",
        ["agency_id", "owner_id", "day", "status"],
        ["contacts"],
        [_Part([AGENCY, _owner("owner_id"), _day("created_at"), same("{r}.status")], [ONE], LIVE)],
        watched=["agency_id", "owner_id", "created_at", "status", "deleted_at"],
    ),
    _Summary(
        "deal_day_count",
        "deal",
        ["agency_id", "owner_id", "status", "stage_id", "currency", "close_reason", "day"],
        ["deals", "amount_cents", "cycle_ms"],
        [
            _Part(
                [
                    AGENCY,
                    _owner("owner_id"),
                    same("{r}.status"),
                    same("{r}.stage_id"),
                    same("COALESCE({r}.currency, '')"),
                    same("{r}.close_reason"),
                    (
                        "CASE WHEN {r}.status = 'open' THEN {r}.expected_close_date "
                        "ELSE ({r}.closed_at AT TIME ZONE 'UTC')::date END",
                        "CASE WHEN {r}.status = 'open' THEN date({r}.expected_close_date) "
                        "ELSE date({r}.closed_at) END",
                    ),
                ],
                [
                    ONE,
                    (
                        "round({r}.amount * 100)::bigint",
                        "CAST(round({r}.amount * 100) AS INTEGER)",
                    ),
                    _milliseconds("created_at", "closed_at"),
                ],
                f"{LIVE} AND ({{r}}.status = 'open' OR {{r}}.closed_at IS NOT NULL)",
            )
        ],
        watched=[
            "agency_id",
            "owner_id",
            "status",
            "stage_id",
            "currency",
            "close_reason",
            "expected_close_date",
            "closed_at",
            "created_at",
            "amount",
            "deleted_at",
        ],
    ),
    _Summary(
        "ticket_day_count",
        "ticket",
        ["agency_id", "assignee_id", "figure", "day", "status", "priority"],
        ["tickets", "total"],
        [
            _ticket("created", _day("created_at"), "true"),
            _ticket("targeted", _day("created_at"), "{r}.resolution_target IS NOT NULL"),
            _ticket(
                "missed",
                _day("created_at"),
                "{r}.resolution_target IS NOT NULL AND ({r}.resolution_breached_at IS NOT NULL"
                " OR {r}.first_response_breached_at IS NOT NULL)",
            ),
            _ticket(
                "first_response",
                _day("first_response_at"),
                "{r}.first_response_at IS NOT NULL",
                _milliseconds("created_at", "first_response_at"),
            ),
            _ticket(
                "resolved",
                _day("resolved_at"),
                "{r}.resolved_at IS NOT NULL",
                _milliseconds("created_at", "resolved_at"),
            ),
            _ticket(
                "rated",
                _day("rated_at"),
                "{r}.rated_at IS NOT NULL AND {r}.satisfaction_score IS NOT NULL",
                same("{r}.satisfaction_score"),
            ),
            _ticket(
                "first_response_breach",
                _day("first_response_breached_at"),
                "{r}.first_response_breached_at IS NOT NULL",
            ),
            _ticket(
                "resolution_breach",
                _day("resolution_breached_at"),
                "{r}.resolution_breached_at IS NOT NULL",
            ),
            _Part(
                [
                    AGENCY,
                    _owner("assignee_id"),
                    same("'open'"),
                    ("date '1970-01-01'", "'1970-01-01'"),
                    same("{r}.status"),
                    same("{r}.priority"),
                ],
                [ONE, NOTHING],
                f"{LIVE} AND {{r}}.status IN ('new', 'open', 'pending')",
            ),
        ],
        watched=[
            "agency_id",
            "assignee_id",
            "status",
            "priority",
            "created_at",
            "resolution_target",
            "resolution_breached_at",
            "first_response_breached_at",
            "first_response_at",
            "resolved_at",
            "rated_at",
            "satisfaction_score",
            "deleted_at",
        ],
    ),
]


async def _triggers_and_backfill(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    for summary in SUMMARIES:
        statements = summary.postgres_triggers() if postgres else summary.sqlite_triggers()
        for statement in [*statements, summary.backfill(postgres)]:
            await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [('crm', '0039_deal_stage_changes')]

    initial = False

    operations = [
        ops.CreateModel(
            name="ContactDayCount",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("agency_id", fields.UUIDField()),
                ("owner_id", fields.UUIDField()),
                ("day", fields.DateField()),
                ("status", fields.CharField(max_length=20)),
                ("contacts", fields.BigIntField(default=0)),
            ],
            options={
                "table": "contact_day_count",
                "app": "crm",
                "unique_together": (("agency_id", "owner_id", "day", "status"),),
                "pk_attr": "id",
                "table_description": "The live (not deleted) contacts by agency, owner, UTC day of creation and status.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DealDayCount",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("agency_id", fields.UUIDField()),
                ("owner_id", fields.UUIDField()),
                ("status", fields.CharField(max_length=10)),
                ("stage_id", fields.UUIDField()),
                ("currency", fields.CharField(max_length=3)),
                ("close_reason", fields.CharField(max_length=500)),
                ("day", fields.DateField()),
                ("deals", fields.BigIntField(default=0)),
                ("amount_cents", fields.BigIntField(default=0)),
                ("cycle_ms", fields.BigIntField(default=0)),
            ],
            options={
                "table": "deal_day_count",
                "app": "crm",
                "unique_together": (
                    (
                        "agency_id",
                        "owner_id",
                        "status",
                        "stage_id",
                        "currency",
                        "close_reason",
                        "day",
                    ),
                ),
                "pk_attr": "id",
                "table_description": "The live deals by agency, owner, status, stage, currency, close reason and day.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TicketDayCount",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("agency_id", fields.UUIDField()),
                ("assignee_id", fields.UUIDField()),
                ("figure", fields.CharField(max_length=30)),
                ("day", fields.DateField()),
                ("status", fields.CharField(max_length=20)),
                ("priority", fields.CharField(max_length=10)),
                ("tickets", fields.BigIntField(default=0)),
                ("total", fields.BigIntField(default=0)),
            ],
            options={
                "table": "ticket_day_count",
                "app": "crm",
                "unique_together": (
                    ("agency_id", "assignee_id", "figure", "day", "status", "priority"),
                ),
                "pk_attr": "id",
                "table_description": "The live tickets by agency, assignee, figure and day: one row per figure a ticket",
            },
            bases=["Model"],
        ),
        ops.RunPython(_triggers_and_backfill, ops.RunPython.noop),
    ]
