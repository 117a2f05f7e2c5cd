"""The `crm` command line: parsing, dispatch to one command with the settings, logging setup."""

from __future__ import annotations

import importlib
import io
import json
import logging
import subprocess
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from crm import cli
from crm.logging import configure_logging, redact_url
from crm.settings import Environment, Settings
from db.busy import DatabaseBusy

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {
    "serve": "serve",
    "worker": "worker",
    "migrate": "migrate",
    "dev": "dev",
    "export-schema": "export_schema",
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Settings]]:
    """Every command replaced by a recorder; logging setup recorded instead of applied."""
    recorded: list[tuple[str, Settings]] = []
    for command, function in COMMANDS.items():

        def record(settings: Settings, command: str = command) -> int:
            recorded.append((command, settings))
            return 0

        monkeypatch.setattr(cli, function, record)
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    return recorded


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as pytest had it after a test that configures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_main_runs_the_named_command_with_the_settings(
    calls: list[tuple[str, Settings]], command: str
) -> None:
    assert cli.main([command]) == 0

    assert [name for name, _ in calls] == [command]
    assert isinstance(calls[0][1], Settings)


def test_main_returns_the_exit_code_of_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "configure_logging", lambda *args, **kwargs: None)
    monkeypatch.setattr(cli, "migrate", lambda settings: 3)

    assert cli.main(["migrate"]) == 3


def test_main_reads_the_settings_from_the_environment(
    calls: list[tuple[str, Settings]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_API_PORT", "9123")

    cli.main(["serve"])

    settings = calls[0][1]
    assert (settings.data_dir, settings.api_port) == (tmp_path, 9123)


def test_invalid_settings_are_reported_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
    calls: list[tuple[str, Settings]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRM_API_PORT", "not-a-port")

    assert cli.main(["serve"]) == 2

    assert calls == []
    error = capsys.readouterr().err
    assert "crm: invalid settings" in error
    assert "api_port" in error
    assert "Traceback" not in error


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main([])

    assert exit_.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["deploy"])

    assert exit_.value.code == 2
    assert "invalid choice: 'deploy'" in capsys.readouterr().err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])

    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    missing = [command for command in COMMANDS if command not in help_text]
    assert not missing, f"commands missing from --help: {missing}\n{help_text}"


def test_export_schema_prints_the_sdl_of_the_root_schema(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sdl = "type Query {\n  hello: String!\n}"
    schema_module = types.ModuleType("schema")
    schema_module.schema = types.SimpleNamespace(as_str=lambda: sdl)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "schema", schema_module)

    assert cli.export_schema(Settings()) == 0

    assert capsys.readouterr().out == sdl + "\n"


def test_migrate_applies_the_migrations_to_the_configured_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    migrated: list[str] = []

    async def migrate(url: str) -> None:
        migrated.append(url)

    monkeypatch.setattr("db.connection.migrate", migrate)
    settings = Settings(database_url=f"sqlite://{tmp_path / 'x.sqlite3'}")

    # A thread of its own: the command runs its own event loop (asyncio.run).
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(cli.migrate, settings).result() == 0

    assert migrated == [settings.database_url]


def test_serve_runs_uvicorn_on_the_configured_host_and_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = object()
    app_module = types.ModuleType("crm.app")
    app_module.create_app = lambda settings: app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "crm.app", app_module)
    served: list[uvicorn.Config] = []

    def run(server: uvicorn.Server, sockets: Any = None) -> None:
        served.append(server.config)
        server.started = True

    monkeypatch.setattr(uvicorn.Server, "run", run)

    assert cli.serve(Settings(api_host="0.0.0.0", api_port=9001)) == 0

    [config] = served
    assert (config.app, config.host, config.port) == (app, "0.0.0.0", 9001)
    assert config.log_config is None, "uvicorn must log through our handler"


def test_serve_fails_when_the_api_did_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    app_module = types.ModuleType("crm.app")
    app_module.create_app = lambda settings: object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "crm.app", app_module)
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, sockets=None: None)

    assert cli.serve(Settings()) == 1


@pytest.mark.parametrize(
    ("environment", "json_lines"),
    [(Environment.DEV, False), (Environment.PRODUCTION, True)],
)
def test_production_logs_json_lines_and_dev_logs_key_values(
    monkeypatch: pytest.MonkeyPatch, environment: Environment, json_lines: bool
) -> None:
    seen: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        cli, "configure_logging", lambda level, *, json_lines: seen.append((level, json_lines))
    )
    monkeypatch.setattr(cli, "migrate", lambda settings: 0)
    monkeypatch.setenv("CRM_ENVIRONMENT", environment.value)
    monkeypatch.setenv("CRM_SECRET_KEY", "a-production-secret-of-at-least-32-characters")
    monkeypatch.setenv("CRM_PUBLIC_URL", "https://crm.example.com")
    monkeypatch.setenv("CRM_LOG_LEVEL", "WARNING")

    cli.main(["migrate"])

    assert seen == [("WARNING", json_lines)]


@pytest.mark.usefixtures("root_logging")
def test_key_value_lines_carry_logger_level_message_and_extra_fields() -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)

    logging.getLogger("crm.smtp").info("mail received", extra={"rcpt_to": "a@b.c", "bytes": 12})
    logging.getLogger("uvicorn.error").info("Started server process [1]")

    smtp_line, api_line = stream.getvalue().splitlines()
    assert smtp_line.startswith("time=")
    assert 'level=info logger=crm.smtp msg="mail received" rcpt_to=a@b.c bytes=12' in smtp_line
    assert 'logger=crm.api msg="Started server process [1]"' in api_line


@pytest.mark.usefixtures("root_logging")
def test_json_lines_are_one_object_per_record_with_the_traceback() -> None:
    stream = io.StringIO()
    configure_logging("INFO", json_lines=True, stream=stream)

    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("crm.worker").exception("activity failed", extra={"attempt": 2})

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert {key: record[key] for key in ("level", "logger", "msg", "attempt")} == {
        "level": "error",
        "logger": "crm.worker",
        "msg": "activity failed",
        "attempt": 2,
    }
    assert "ValueError: boom" in record["exc"]


@pytest.mark.usefixtures("root_logging")
def test_configuring_logging_twice_keeps_one_handler() -> None:
    configure_logging("INFO", stream=io.StringIO())
    configure_logging("DEBUG", stream=io.StringIO())

    root = logging.getLogger()
    assert len(root.handlers) == 1
    assert root.level == logging.DEBUG


def test_database_passwords_are_kept_out_of_log_lines() -> None:
    assert redact_url("postgres://crm:s3cret@db:5432/crm") == "postgres://crm:***@db:5432/crm"
    assert redact_url("sqlite:///data/crm.sqlite3") == "sqlite:///data/crm.sqlite3"


def test_python_dash_m_crm_is_the_same_command_line() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "crm", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: crm ")


def test_documents_purge_refuses_a_negative_retention(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["documents", "purge", "--days", "-1"]) == 2
    assert capsys.readouterr().err == "crm documents purge: --days must be 0 or more\n"


def test_a_command_refused_by_a_busy_database_says_so_and_exits_to_be_run_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def busy_command() -> int:
        raise DatabaseBusy()

    assert cli.run_script(busy_command()) == cli.EXIT_BUSY == 75
    assert "nothing was changed, run the command again" in capsys.readouterr().err


def test_a_command_failing_otherwise_still_raises() -> None:
    async def broken_command() -> int:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        cli.run_script(broken_command())


def test_serve_with_workers_starts_that_many_processes_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: runs.append((app, options)))

    assert cli.main(["serve", "--workers", "3"]) == 0
    assert cli.serve(Settings(api_workers=2, api_port=9002)) == 0

    [(app, options), (_, from_settings)] = runs
    assert app == cli.APP_FACTORY
    assert options["factory"] is True
    assert (options["workers"], from_settings["workers"], from_settings["port"]) == (3, 2, 9002)
    assert options["log_config"] is None, "uvicorn must log through our handler"
    module, _, name = cli.APP_FACTORY.partition(":")
    assert callable(getattr(importlib.import_module(module), name))
