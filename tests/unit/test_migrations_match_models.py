"""Every model change has its migration: Tortoise's autodetector, run as `tortoise
makemigrations` runs it, finds nothing left to write. (A model edited without a migration
works in tests, which build from migrations, only until a column is read.)"""

from __future__ import annotations

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from db.connection import tortoise_config


async def test_the_migrations_describe_every_model_as_it_is() -> None:
    config = tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as context:
        await context.init(config=config)
        assert context.apps is not None
        autodetector = MigrationAutodetector(context.apps, config["apps"])
        pending = await autodetector.changes()
    assert [writer.name for writer in pending] == [], "run `tortoise ... makemigrations`"
