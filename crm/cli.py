"""The `crm` command (also `python -m crm`): serve, worker, migrate, dev, export-schema, flows,
import."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from tortoise import Tortoise

from crm.logging import configure_logging, redact_url
from crm.settings import Environment, Settings
from db.busy import is_busy

log = logging.getLogger("crm.cli")

# What each of `crm serve --workers N`'s processes builds its app with.
APP_FACTORY = "crm.app:app_from_environment"

Command = Callable[[Settings], int]
# A command that also takes its own command-line arguments (`crm bootstrap --agency-name ...`,
# `crm flows validate FILE`).
CommandWithArguments = Callable[[Settings, argparse.Namespace], int]


# sysexits.h EX_TEMPFAIL: a temporary failure, the command may be run again.
EXIT_BUSY = 75


def run_script(main: Coroutine[Any, Any, int]) -> int:
    """Run one async command; Tortoise's connections are closed at the end, or the process hangs.

    A command whose write waited its whole bound for another process's lock changed nothing
    (its transaction rolled back): it says so and exits 75, to be run again.
    """

    async def script() -> int:
        try:
            return await main
        except Exception as error:
            if not is_busy(error):
                raise
            sys.stderr.write(
                "crm: the database stayed busy (another process held its write lock); "
                "nothing was changed, run the command again\n"
            )
            return EXIT_BUSY
        finally:
            await Tortoise.close_connections()

    return asyncio.run(script())


def serve(settings: Settings) -> int:
    """The API on CRM_API_HOST:CRM_API_PORT, in CRM_API_WORKERS processes."""
    import uvicorn

    options: dict[str, Any] = {
        "host": settings.api_host,
        "port": settings.api_port,
        "log_config": None,
        "lifespan": "on",
        "access_log": False,  # the app logs every request itself, with its request id
        "server_header": False,
    }
    workers = settings.api_workers
    if workers > 1:
        # uvicorn's supervisor starts the processes on one socket; each builds its app from the
        # same CRM_* settings. It returns after SIGTERM/Ctrl-C has stopped them all.
        with contextlib.suppress(KeyboardInterrupt):
            uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)
        return 0

    from crm.app import create_app
    from crm.tracing import configure_tracing

    configure_tracing(settings, "crm-api")
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **options))
    # uvicorn re-raises Ctrl-C after its graceful shutdown; that shutdown was the point.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else 1


def worker(settings: Settings) -> int:
    from crm.tracing import configure_tracing
    from crm.worker import run_worker

    configure_tracing(settings, "crm-worker")

    async def until_signal() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_worker(settings, stop)
        return 0

    return run_script(until_signal())


def inbound(settings: Settings) -> int:
    from crm.inbound_smtp import run_inbound

    async def until_signal() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await run_inbound(settings, stop)
        return 0

    return run_script(until_signal())


def migrate(settings: Settings) -> int:
    from db.connection import migrate as apply_migrations

    async def apply() -> int:
        await apply_migrations(settings.database_url)
        log.info("migrations applied", extra={"database": redact_url(settings.database_url)})
        return 0

    return run_script(apply())


def dev(settings: Settings) -> int:
    from crm.dev_stack import run_dev_stack
    from crm.tracing import configure_tracing

    configure_tracing(settings, "crm")
    return run_script(run_dev_stack(settings))


def bootstrap(settings: Settings, arguments: argparse.Namespace) -> int:
    """Create the first agency and its admin; running it again changes nothing."""
    from crm.worker import seed_flows_for
    from db.connection import database
    from domain.agencies import bootstrap_agency
    from domain.errors import DomainError, DomainErrors, errors_of

    password = os.environ.get("CRM_BOOTSTRAP_ADMIN_PASSWORD", "")
    if not password:
        sys.stderr.write(
            "crm bootstrap: set CRM_BOOTSTRAP_ADMIN_PASSWORD (never a flag: ps shows flags)\n"
        )
        return 2

    async def create() -> int:
        async with database(settings.database_url, settings.database_lock_wait):
            try:
                agency, admin, created = await bootstrap_agency(
                    arguments.agency_name,
                    arguments.agency_slug or arguments.agency_name,
                    arguments.admin_email,
                    arguments.admin_name,
                    password,
                )
            except (DomainError, DomainErrors) as error:
                for problem in errors_of(error):
                    sys.stderr.write(
                        f"crm bootstrap: {problem.field or 'input'}: {problem.message}\n"
                    )
                return 1
            if created:
                await seed_flows_for(settings, [agency.id])
        state = "created" if created else "already exists, unchanged"
        sys.stdout.write(f"agency {agency.slug} ({agency.id}) {state}; admin {admin.email}\n")
        return 0

    return run_script(create())


def _add_bootstrap_command(commands: Any) -> None:
    help_text = "create the first agency and its admin (idempotent; for first start and tests)"
    parser = commands.add_parser("bootstrap", help=help_text, description=help_text)
    flags = (
        ("--agency-name", "CRM_BOOTSTRAP_AGENCY_NAME", "the agency's display name"),
        (
            "--agency-slug",
            "CRM_BOOTSTRAP_AGENCY_SLUG",
            "short unique name (default: from the name)",
        ),
        ("--admin-email", "CRM_BOOTSTRAP_ADMIN_EMAIL", "the admin's sign-in email"),
        ("--admin-name", "CRM_BOOTSTRAP_ADMIN_NAME", "the admin's name"),
    )
    for flag, variable, help_flag in flags:
        default = os.environ.get(variable)
        required = default is None and flag != "--agency-slug"
        parser.add_argument(
            flag, default=default, required=required, help=f"{help_flag} (${variable})"
        )
    parser.set_defaults(command_function=bootstrap, takes_arguments=True)


def export_schema(settings: Settings) -> int:
    from schema import schema

    sys.stdout.write(schema.as_str() + "\n")
    return 0


def flows_validate(settings: Settings, arguments: argparse.Namespace) -> int:
    """Print every problem of the definitions in a file, with its path; 1 if there is any."""
    from crm.flow_files import FlowFileError, definitions_in, file_problems, read_flow_file

    file: Path = arguments.file
    try:
        data = read_flow_file(file)
        problems = file_problems(data)
        count = len(definitions_in(data))
    except FlowFileError as error:
        sys.stderr.write(f"crm flows validate: {error}\n")
        return 1
    for problem in problems:
        sys.stdout.write(f"{file}: {problem}\n")
    if problems:
        sys.stderr.write(f"{len(problems)} problem(s) found\n")
        return 1
    sys.stdout.write(f"{file}: {count} definition(s), no problems\n")
    return 0


def flows_export(settings: Settings, arguments: argparse.Namespace) -> int:
    """Print an agency's published definitions as YAML (a `flows:` list, as in temporal.yaml)."""
    from uuid import UUID

    import yaml

    from db.connection import open_database
    from domain.actors import Actor
    from domain.flows.service import published_definitions

    async def export() -> int:
        await open_database(settings.database_url, settings.database_lock_wait)
        agency_id = UUID(arguments.agency)
        definitions = await published_definitions(Actor.system(agency_id, "cli"))
        flows = {"flows": [definition.document() for definition in definitions]}
        sys.stdout.write(yaml.safe_dump(flows, sort_keys=False, allow_unicode=True))
        return 0

    return run_script(export())


def _add_flows_commands(commands: Any) -> None:
    help_text = "validate flow definition files, export the published ones"
    flows = commands.add_parser("flows", help=help_text, description=help_text)
    flow_commands = flows.add_subparsers(dest="flows_command", required=True, metavar="COMMAND")
    validate_help = "check the flow definitions in a YAML or JSON file; exit 1 on any problem"
    validate = flow_commands.add_parser("validate", help=validate_help, description=validate_help)
    validate.add_argument(
        "file", type=Path, help="one definition, a list of them, or a file with a flows: list"
    )
    validate.set_defaults(command_function=flows_validate, takes_arguments=True)
    export_help = "print the published flow definitions of an agency as YAML"
    export = flow_commands.add_parser("export", help=export_help, description=export_help)
    export.add_argument("--agency", required=True, help="the agency's id")
    export.set_defaults(command_function=flows_export, takes_arguments=True)


def documents_purge(settings: Settings, arguments: argparse.Namespace) -> int:
    """Erase the documents deleted more than the retention period ago (bytes and rows)."""
    from datetime import UTC, datetime, timedelta

    from db.connection import database
    from domain.documents import purge_deleted_documents

    days = settings.document_retention_days if arguments.days is None else arguments.days
    if days < 0:
        sys.stderr.write("crm documents purge: --days must be 0 or more\n")
        return 2

    async def purge() -> int:
        async with database(settings.database_url, settings.database_lock_wait):
            cutoff = datetime.now(UTC) - timedelta(days=days)
            count = await purge_deleted_documents(settings.storage(), cutoff)
        sys.stdout.write(f"{count} document(s) deleted more than {days} day(s) ago purged\n")
        return 0

    return run_script(purge())


def _add_documents_commands(commands: Any) -> None:
    help_text = "maintain stored documents"
    documents = commands.add_parser("documents", help=help_text, description=help_text)
    document_commands = documents.add_subparsers(
        dest="documents_command", required=True, metavar="COMMAND"
    )
    purge_help = (
        "erase documents deleted more than CRM_DOCUMENT_RETENTION_DAYS (30) days ago: their "
        "bytes and rows (the worker's schedule does this daily; this runs it now)"
    )
    purge = document_commands.add_parser("purge", help=purge_help, description=purge_help)
    purge.add_argument(
        "--days", type=int, default=None, help="the retention period for this run, in days"
    )
    purge.set_defaults(command_function=documents_purge, takes_arguments=True)


def sort_keys(settings: Settings, arguments: argparse.Namespace) -> int:
    """Fill the sort keys of every custom field marked sortable and not ready yet."""
    from db.connection import database
    from domain.custom_field_sort_keys import fill_every_field

    def report(field: Any, progress: Any) -> None:
        state = "ready" if progress.done else "filling"
        sys.stdout.write(
            f"{field.record_type} field {field.key} (agency {field.agency_id}): "
            f"{progress.filled} record(s) filled, {state}\n"
        )

    async def fill() -> int:
        async with database(settings.database_url, settings.database_lock_wait):
            ready = await fill_every_field(report, arguments.batch)
        sys.stdout.write(f"{ready} field(s) ready\n")
        return 0

    return run_script(fill())


def _add_sort_keys_command(commands: Any) -> None:
    help_text = (
        "fill the sort keys of custom fields marked sortable (marking fills the first batch; "
        "this the rest, resumable), so lists ordered by them read an index"
    )
    parser = commands.add_parser("sort-keys", help=help_text, description=help_text)
    parser.add_argument(
        "--batch", type=_positive, default=5_000, help="records per transaction (default 5000)"
    )
    parser.set_defaults(command_function=sort_keys, takes_arguments=True)


def import_file(settings: Settings, arguments: argparse.Namespace) -> int:
    """`crm import FILE --mapping M.json --agency SLUG`: the import, here, with a progress bar."""
    from crm.import_command import run_import

    return run_script(run_import(settings, arguments, sys.stdout))


def _add_import_command(commands: Any) -> None:
    help_text = "import contacts, customers or leads from a CSV or XLSX file, with progress"
    parser = commands.add_parser("import", help=help_text, description=help_text)
    parser.add_argument("file", type=Path, help="the .csv (UTF-8) or .xlsx file")
    parser.add_argument(
        "--mapping",
        type=Path,
        required=True,
        help='a JSON file {"column": "field"}; fields as the API names them, custom:<key> '
        "for custom fields (docs/import.md)",
    )
    parser.add_argument("--agency", required=True, help="the agency's slug or id")
    parser.add_argument(
        "--as",
        dest="as_user",
        default=None,
        help="the email of the user importing (the records' owner; their access applies); "
        "default: the agency's system actor, and the records have no owner",
    )
    parser.add_argument("--record-type", choices=("contact", "customer", "lead"), default="contact")
    parser.add_argument(
        "--duplicates",
        choices=("skip", "update", "merge", "create_anyway"),
        default="skip",
        help="what a row matching a record (the duplicate detector's match) does (default: skip)",
    )
    parser.add_argument(
        "--no-flows",
        action="store_true",
        help="the imported records start no flows (by default they do, as if created one by one)",
    )
    parser.set_defaults(command_function=import_file, takes_arguments=True)


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _add_serve_command(commands: Any) -> None:
    serve_help = "run the GraphQL API (uvicorn) on CRM_API_HOST:CRM_API_PORT"
    parser = commands.add_parser("serve", help=serve_help, description=serve_help)
    parser.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="API processes sharing the port, one per core (default CRM_API_WORKERS, 1)",
    )
    parser.set_defaults(
        command_function=lambda settings, args: serve(
            settings.model_copy(update={"api_workers": args.workers}) if args.workers else settings
        ),
        takes_arguments=True,
    )


def bound_command(args: argparse.Namespace) -> Command:
    """The chosen command; one that takes its own arguments gets them bound."""
    if getattr(args, "takes_arguments", False):
        with_arguments: CommandWithArguments = args.command_function
        return lambda settings: with_arguments(settings, args)
    return cast(Command, args.command_function)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm",
        description="CRM backend. Settings come from CRM_* environment variables and .env "
        "(see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    table: list[tuple[str, Command, str]] = [
        ("worker", worker, "run the Temporal worker on the flows task queue"),
        (
            "inbound",
            inbound,
            "run the inbound SMTP server (agencies' mail) on CRM_INBOUND_HOST:CRM_INBOUND_PORT",
        ),
        ("migrate", migrate, "apply pending database migrations to CRM_DATABASE_URL"),
        (
            "dev",
            dev,
            "run the whole embedded stack: Temporal dev server, SMTP sink, inbound SMTP, worker "
            "and API",
        ),
        ("export-schema", export_schema, "print the GraphQL schema (SDL) to stdout"),
    ]
    for name, command, help_text in table:
        commands.add_parser(name, help=help_text, description=help_text).set_defaults(
            command_function=command
        )
    _add_serve_command(commands)
    _add_bootstrap_command(commands)
    _add_flows_commands(commands)
    _add_documents_commands(commands)
    _add_import_command(commands)
    _add_sort_keys_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        # Logging is not set up yet (its level is a setting); say what is wrong, plainly.
        sys.stderr.write(f"crm: invalid settings (see .env.example): {error}\n")
        return 2
    configure_logging(settings.log_level, json_lines=settings.environment is Environment.PRODUCTION)
    command = bound_command(args)
    try:
        return command(settings)
    except KeyboardInterrupt:
        return 130
