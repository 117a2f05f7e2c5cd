"""Config for Tortoise's own CLI (`tortoise -c db.tortoise_cli.TORTOISE_ORM makemigrations`)."""

import os

from db.connection import tortoise_config

TORTOISE_ORM = tortoise_config(os.environ.get("CRM_DATABASE_URL", "sqlite://data/crm.sqlite3"))
