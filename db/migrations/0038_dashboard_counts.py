"""Summary tables of the dashboards (contacts and deals per agency, owner, day and status),
kept by triggers in the writing transaction, and filled in from the records that exist.

The triggers upsert with increments (`ON CONFLICT ... DO UPDATE SET n = n + excluded.n`), so
concurrent writes to one key queue on its row and none is lost. PostgreSQL: one statement
trigger per event over the transition tables (a bulk insert of a million contacts upserts
once per key, in key order, so two writers lock keys in the same order); SQLite (one writer
at a time): row triggers. An update that changes no key nor summed value writes nothing.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

NO_OWNER = "00000000-0000-0000-0000-000000000000"


class _Summary:
    """A summary table: its key and value columns as expressions of a source row `{r}`
    (PostgreSQL, SQLite), the condition for a row to count, and the source's columns that
    can change its contribution."""

    def __init__(
        self,
        table: str,
        source: str,
        keys: list[tuple[str, str, str]],
        values: list[tuple[str, str, str]],
        counted: str,
        watched: list[str],
    ) -> None:
        self.table, self.source, self.keys, self.values = table, source, keys, values
        self.counted, self.watched = counted, watched

    def _columns(self) -> str:
        return ", ".join(name for name, _, _ in [*self.keys, *self.values])

    def _conflict(self) -> str:
        keys = ", ".join(name for name, _, _ in self.keys)
        sets = ", ".join(f"{n} = {self.table}.{n} + excluded.{n}" for n, _, _ in self.values)
        return f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"

    def _rows(self, postgres: bool, alias: str, sign: str) -> str:
        """One source's contributions (`sign` '' or '-'), as a SELECT over `alias` r."""
        index = 1 if postgres else 2
        keys = ", ".join(f"{spec[index]} AS {spec[0]}" for spec in self.keys)
        values = ", ".join(f"{sign}({spec[index]}) AS {spec[0]}" for spec in self.values)
        return f"SELECT {keys}, {values} FROM {alias} r WHERE {self.counted}".replace("{r}", "r")

    def _grouped(self, postgres: bool, rows: str) -> str:
        keys = ", ".join(name for name, _, _ in self.keys)
        sums = ", ".join(f"SUM({name})" for name, _, _ in self.values)
        nonzero = " OR ".join(f"SUM({name}) <> 0" for name, _, _ in self.values)
        order = f" ORDER BY {keys}" if postgres else ""
        return (
            f"INSERT INTO {self.table} ({self._columns()}) SELECT {keys}, {sums} "
            f"FROM ({rows}) AS changes WHERE true GROUP BY {keys} HAVING {nonzero}{order} {self._conflict()}"
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

    def _sqlite_upsert(self, row: str, sign: str) -> str:
        keys = ", ".join(spec[2] for spec in self.keys)
        values = ", ".join(f"{sign}({spec[2]})" for spec in self.values)
        return (
            f"INSERT INTO {self.table} ({self._columns()}) "
            f"VALUES ({keys}, {values}) {self._conflict()}".replace("{r}", row)
        )

    def sqlite_triggers(self) -> list[str]:
        name = f"{self.table}_sync"
        counted = {row: self.counted.replace("{r}", row) for row in ("NEW", "OLD")}
        changed = " OR ".join(f"OLD.{column} IS NOT NEW.{column}" for column in self.watched)
        return [
            f"CREATE TRIGGER {name}_insert AFTER INSERT ON {self.source} "
            f"WHEN {counted['NEW']} BEGIN {self._sqlite_upsert('NEW', '')}; END",
            f"CREATE TRIGGER {name}_delete AFTER DELETE ON {self.source} "
            f"WHEN {counted['OLD']} BEGIN {self._sqlite_upsert('OLD', '-')}; END",
            f"CREATE TRIGGER {name}_update_old AFTER UPDATE ON {self.source} "
            f"WHEN ({changed}) AND {counted['OLD']} BEGIN {self._sqlite_upsert('OLD', '-')}; END",
            f"CREATE TRIGGER {name}_update_new AFTER UPDATE ON {self.source} "
            f"WHEN ({changed}) AND {counted['NEW']} BEGIN {self._sqlite_upsert('NEW', '')}; END",
        ]


def _owner(postgres_cast: str) -> tuple[str, str, str]:
    return (
        "owner_id",
        f"COALESCE({{r}}.owner_id, '{NO_OWNER}'{postgres_cast})",
        f"COALESCE({{r}}.owner_id, '{NO_OWNER}')",
    )


SUMMARIES = [
    _Summary(
        "contact_day_count",
        "contact",
        keys=[
            ("agency_id", "{r}.agency_id", "{r}.agency_id"),
            _owner("::uuid"),
            ("day", "({r}.created_at AT TIME ZONE 'UTC')::date", "date({r}.created_at)"),
            ("status", "{r}.status", "{r}.status"),
        ],
        values=[("contacts", "1", "1")],
        counted="{r}.deleted_at IS NULL",
        watched=["agency_id", "owner_id", "created_at", "status", "deleted_at"],
    ),
    _Summary(
        "deal_day_count",
        "deal",
        keys=[
            ("agency_id", "{r}.agency_id", "{r}.agency_id"),
            _owner("::uuid"),
            ("status", "{r}.status", "{r}.status"),
            ("stage_id", "{r}.stage_id", "{r}.stage_id"),
            ("currency", "COALESCE({r}.currency, '')", "COALESCE({r}.currency, '')"),
            ("close_reason", "{r}.close_reason", "{r}.close_reason"),
            (
                "day",
                "CASE WHEN {r}.status = 'open' THEN {r}.expected_close_date "
                "ELSE ({r}.closed_at AT TIME ZONE 'UTC')::date END",
                "CASE WHEN {r}.status = 'open' THEN date({r}.expected_close_date) "
                "ELSE date({r}.closed_at) END",
            ),
        ],
        values=[
            ("deals", "1", "1"),
            (
                "amount_cents",
                "round({r}.amount * 100)::bigint",
                "CAST(round({r}.amount * 100) AS INTEGER)",
            ),
            (
                "cycle_ms",
                "COALESCE(round(EXTRACT(EPOCH FROM ({r}.closed_at - {r}.created_at)) * 1000)::bigint, 0)",
                "COALESCE(CAST(round((julianday({r}.closed_at) - julianday({r}.created_at)) "
                "* 86400000) AS INTEGER), 0)",
            ),
        ],
        counted="{r}.deleted_at IS NULL AND ({r}.status = 'open' OR {r}.closed_at IS NOT NULL)",
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
]


async def _triggers_and_backfill(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    for summary in SUMMARIES:
        statements = summary.postgres_triggers() if postgres else summary.sqlite_triggers()
        for statement in [*statements, summary.backfill(postgres)]:
            await client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("crm", "0036_record_imports"), ("crm", "0037_duplicates")]

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
        ops.RunPython(_triggers_and_backfill, ops.RunPython.noop),
    ]
