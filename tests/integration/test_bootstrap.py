"""`crm bootstrap` creates the first agency and admin, from flags or environment, once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tortoise.context import TortoiseContext

from db.connection import open_database
from db.flows import Flow
from db.users import User
from domain.passwords import verify_password


def bootstrap(
    database_url: str, tmp_path: Path, *flags: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "CRM_DATABASE_URL": database_url,
        "CRM_DATA_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "crm", "bootstrap", *flags],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


FLAGS = (
    "--agency-name",
    "Acme Sales",
    "--admin-email",
    "Boss@Acme.example.com",
    "--admin-name",
    "Boss",
)
PASSWORD = {"CRM_BOOTSTRAP_ADMIN_PASSWORD": "a long admin password"}


async def admins(database_url: str) -> list[User]:
    async with TortoiseContext():
        await open_database(database_url)
        return await User.all()


async def flow_keys(database_url: str) -> list[str]:
    """The default flows a new agency starts with (published from temporal.yaml)."""
    async with TortoiseContext():
        await open_database(database_url)
        return sorted(await Flow.all().values_list("key", flat=True))  # type: ignore[arg-type]


async def test_bootstrap_creates_agency_and_admin_once(database_url: str, tmp_path: Path) -> None:
    first = bootstrap(database_url, tmp_path, *FLAGS, **PASSWORD)
    assert first.returncode == 0, first.stderr
    assert "agency acme-sales" in first.stdout
    assert "created" in first.stdout
    again = bootstrap(database_url, tmp_path, *FLAGS, **PASSWORD)
    assert again.returncode == 0, again.stderr
    assert "unchanged" in again.stdout
    users = await admins(database_url)
    assert [(u.email, u.roles) for u in users] == [("boss@acme.example.com", ["admin"])]
    assert await flow_keys(database_url) == [
        "calling-task-reminders",
        "contact-conversion",
        "contact-nurture",
        "customer-onboarding",
    ]
    assert verify_password(users[0].password_hash, PASSWORD["CRM_BOOTSTRAP_ADMIN_PASSWORD"])


async def test_bootstrap_reads_its_values_from_the_environment(
    database_url: str, tmp_path: Path
) -> None:
    result = bootstrap(
        database_url,
        tmp_path,
        CRM_BOOTSTRAP_AGENCY_NAME="Bolt",
        CRM_BOOTSTRAP_ADMIN_EMAIL="admin@bolt.example.com",
        CRM_BOOTSTRAP_ADMIN_NAME="Bo",
        **PASSWORD,
    )
    assert result.returncode == 0, result.stderr
    assert [u.email for u in await admins(database_url)] == ["admin@bolt.example.com"]


async def test_bootstrap_refuses_bad_input_and_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    no_password = bootstrap(database_url, tmp_path, *FLAGS)
    assert no_password.returncode == 2
    assert "CRM_BOOTSTRAP_ADMIN_PASSWORD" in no_password.stderr
    bad_email = bootstrap(
        database_url,
        tmp_path,
        "--agency-name",
        "Acme",
        "--admin-email",
        "not-an-email",
        "--admin-name",
        "Boss",
        **PASSWORD,
    )
    assert bad_email.returncode == 1
    assert "email" in bad_email.stderr
    assert PASSWORD["CRM_BOOTSTRAP_ADMIN_PASSWORD"] not in bad_email.stderr + bad_email.stdout
    assert await admins(database_url) == []
