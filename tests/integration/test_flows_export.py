"""`crm flows export`: the versions an agency runs now, as YAML that validates again."""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import yaml
from tortoise.context import TortoiseContext

from crm import cli
from crm.flow_files import file_problems, load_default_flows
from db.connection import open_database
from domain.actors import Actor
from domain.flows.service import (
    create_draft,
    edit_draft,
    get_draft,
    publish_draft,
    seed_default_flows,
)
from tests.fixtures.flows import DEFAULT_FLOWS


async def prepare(database_url: str, agency_id: uuid.UUID) -> None:
    """The defaults, with the nurture flow's name changed in a version 2."""
    async with TortoiseContext():
        await open_database(database_url)
        await seed_default_flows(agency_id, load_default_flows(DEFAULT_FLOWS))
        actor = Actor.system(agency_id, "sysadmin")
        await create_draft(actor, "contact-nurture")
        document = (await get_draft(actor, "contact-nurture")).document
        await edit_draft(actor, "contact-nurture", {**document, "name": "Nurture, shorter"})
        await publish_draft(actor, "contact-nurture")


def export(agency_id: uuid.UUID) -> str:
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert cli.main(["flows", "export", "--agency", str(agency_id)]) == 0
    return printed.getvalue()


async def test_export_prints_the_published_definitions_as_yaml_that_validates(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    agency_id = uuid.uuid4()
    await prepare(database_url, agency_id)
    monkeypatch.setenv("CRM_DATABASE_URL", database_url)
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)

    # A thread of its own: the command runs its own event loop and Tortoise setup.
    with ThreadPoolExecutor(max_workers=1) as thread:
        printed = thread.submit(export, agency_id).result()

    exported = yaml.safe_load(printed)
    assert [(f["key"], f["version"], f["name"]) for f in exported["flows"]] == [
        ("calling-task-reminders", 1, "Calling task reminders"),
        ("contact-conversion", 1, "Contact conversion"),
        ("contact-nurture", 2, "Nurture, shorter"),
        ("customer-onboarding", 1, "Customer on-boarding"),
    ]
    assert file_problems(exported) == []
