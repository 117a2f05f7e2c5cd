"""Every model change has its migration: Tortoise's autodetector, run as `tortoise
makemigrations` runs it, finds nothing left to write. (A model edited without a migration
works in tests, which build from migrations, only until a column is read.)"""

from __future__ import annotations

import importlib
import itertools
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

import db.migrations as migrations_package
from db.connection import tortoise_config


async def test_the_migrations_describe_every_model_as_it_is() -> None:
    config = tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as context:
        await context.init(config=config)
        assert context.apps is not None
        autodetector = MigrationAutodetector(context.apps, config["apps"])
        pending = await autodetector.changes()
    assert [writer.name for writer in pending] == [], "run `tortoise ... makemigrations`"


def test_the_migrations_form_one_line_each_after_the_one_numbered_before() -> None:
    """Branches merged with their migrations renumbered must also be re-pointed: a migration
    left depending on an older one makes a second leaf, and the order migrations run in on a
    new database then differs from the order they ran in on an existing one."""
    folder = Path(migrations_package.__file__).parent
    names = sorted(path.stem for path in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))
    wrong = []
    for before, name in itertools.pairwise(names):
        module = importlib.import_module(f"{migrations_package.__name__}.{name}")
        if module.Migration.dependencies != [("crm", before)]:
            wrong.append(f"{name} depends on {module.Migration.dependencies}, not {before}")
    assert wrong == []
