"""Tags and search columns on leads, deals and calling tasks, search text filled in for existing
rows (they had no tags: their tags start empty)."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields


# Each table's search sources, in the order its model's SEARCH_FIELDS names them.
SEARCHED = {
    "lead": ("title", "source"),
    "deal": ("name",),
    "calling_task": ("subject", "outcome_notes"),
}


async def _backfill(apps: Any, schema_editor: Any) -> None:
    """Search text for the leads, deals and calling tasks that exist already."""
    from db.search import search_text

    client = schema_editor.client
    text_mark, id_mark = ("$1", "$2") if client.capabilities.dialect == "postgres" else ("?", "?")
    for table, columns in SEARCHED.items():
        rows = await client.execute_query_dict(f"SELECT id, {', '.join(columns)} FROM {table}")
        for row in rows:
            text = search_text([row[column] or "" for column in columns])
            await client.execute_query(
                f"UPDATE {table} SET search_text = {text_mark} WHERE id = {id_mark}", [text, str(row["id"])]
            )


class Migration(migrations.Migration):
    dependencies = [('crm', '0010_flow_steps')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CallingTask',
            name='search_text',
            field=fields.CharField(default='', db_default='', max_length=4000),
        ),
        ops.AddField(
            model_name='CallingTask',
            name='tags',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Deal',
            name='search_text',
            field=fields.CharField(default='', db_default='', max_length=4000),
        ),
        ops.AddField(
            model_name='Deal',
            name='tags',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Lead',
            name='search_text',
            field=fields.CharField(default='', db_default='', max_length=4000),
        ),
        ops.AddField(
            model_name='Lead',
            name='tags',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.RunPython(_backfill, ops.RunPython.noop),
    ]
