"""`crm dev`: the embedded stack in one terminal: Temporal dev server, SMTP sink, worker, API."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import errno
import json
import logging
import shutil
import signal
import socket
import sys
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from tortoise.context import TortoiseContext

from crm.app import create_app
from crm.demo import DEMO_SLUG, DemoLogin, seed_demo_agency
from crm.inbound_smtp import run_inbound
from crm.logging import SMTP_LOGGER, TEMPORAL_LOGGER, redact_url
from crm.settings import Environment, Settings
from crm.worker import GRACEFUL_SHUTDOWN, run_worker
from db.connection import database, migrate

log = logging.getLogger("crm.dev")

# The Temporal CLI's own default: the UI listens on the gRPC port + 1000 (7233 -> 8233).
TEMPORAL_UI_PORT_OFFSET = 1000
TEMPORAL_STOP_TIMEOUT = 10.0
API_STOP_TIMEOUT = 10.0
WORKER_STOP_TIMEOUT = GRACEFUL_SHUTDOWN.total_seconds() + 5.0
SMTP_STOP_TIMEOUT = 5.0
POLL_INTERVAL = 0.05


class DevStackError(Exception):
    """The stack cannot start here (port taken, no binary): a message for a person, no traceback."""


# --- addresses and ports -------------------------------------------------------------------


def split_address(address: str) -> tuple[str, int]:
    """`host:port` (or `[::1]:port`) -> (host, port)."""
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit():
        raise DevStackError(f"CRM_TEMPORAL_ADDRESS must look like host:port, got {address!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def browser_host(host: str) -> str:
    """The host to put in a URL for a server bound to `host`."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def port_problem(host: str, port: int, setting: str) -> str | None:
    """Why a server could not listen on host:port right now (what to do included), or None."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, sockaddr = addresses[0]
        with socket.socket(family, kind, proto) as probe:
            # Same option servers use, so a port in TIME_WAIT is not reported as taken.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(sockaddr)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return (
                "the port is already in use (a second `crm dev`, or another program?). "
                f"Stop that, or choose another port with {setting}."
            )
        return (
            f"{error.strerror or error}. `crm dev` runs every part on this machine: "
            f"point {setting} at a local address."
        )
    return None


def check_ports(settings: Settings) -> None:
    temporal_host, temporal_port = split_address(settings.temporal_address)
    wanted = [
        ("Temporal dev server", temporal_host, temporal_port, "CRM_TEMPORAL_ADDRESS"),
        (
            "Temporal UI",
            temporal_host,
            temporal_port + TEMPORAL_UI_PORT_OFFSET,
            "CRM_TEMPORAL_ADDRESS (the UI takes its port + 1000)",
        ),
        ("API", settings.api_host, settings.api_port, "CRM_API_PORT"),
        ("SMTP sink", settings.smtp_host, settings.smtp_port, "CRM_SMTP_PORT"),
        ("inbound SMTP", settings.inbound_host, settings.inbound_port, "CRM_INBOUND_PORT"),
    ]
    problems = []
    for part, host, port, setting in wanted:
        problem = port_problem(host, port, setting)
        if problem is not None:
            problems.append(f"{part} cannot listen on {host}:{port}: {problem}")
    if problems:
        raise DevStackError("\n".join(problems))


def find_temporal_binary() -> Path:
    # The venv's own binary first: it is the version uv.lock pins, whatever else is on PATH.
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.is_file():
        return beside_python
    found = shutil.which("temporal")
    if found is None:
        raise DevStackError(
            "The `temporal` binary was not found next to Python or on PATH; it comes with the "
            "`dev` extra (`make run`, or `uv sync --all-extras`)."
        )
    return Path(found)


# --- Temporal dev server -------------------------------------------------------------------

_TEMPORAL_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "DPANIC": logging.CRITICAL,
    "PANIC": logging.CRITICAL,
    "FATAL": logging.CRITICAL,
}
_RESERVED_RECORD_KEYS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def relog_temporal_line(line: str, logger: logging.Logger, *, stopping: bool = False) -> None:
    """Re-log one line of the dev server's output: its JSON logs keep their level and fields.

    Once we have asked it to stop, its internal pollers complain about the closing connections
    (warnings, and errors when it was still starting); those say nothing and go to DEBUG. Its
    exit code is logged either way.
    """
    line = line.rstrip()
    if not line:
        return
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        logger.info(line)
        return
    level = _TEMPORAL_LEVELS.get(str(entry.pop("level", "INFO")).upper(), logging.INFO)
    message = str(entry.pop("msg", ""))
    entry.pop("time", None)
    fields = {
        (f"temporal_{key}" if key in _RESERVED_RECORD_KEYS else key): value
        for key, value in entry.items()
    }
    if stopping and level in (logging.WARNING, logging.ERROR):
        level = logging.DEBUG
    logger.log(level, message, extra=fields)


class TemporalDevServer:
    """`temporal server start-dev` as a child process in its own session.

    Its own session keeps the terminal's Ctrl-C away from it: the stack stops it last, after the
    worker has let go of it.
    """

    def __init__(
        self, binary: Path, host: str, port: int, ui_port: int, db_file: Path, settings: Settings
    ) -> None:
        self.host, self.port, self.ui_port = host, port, ui_port
        self.arguments = [
            str(binary), "server", "start-dev",
            "--ip", host,
            "--port", str(port),
            "--ui-port", str(ui_port),
            "--db-filename", str(db_file),
            "--log-format", "json",
            "--log-level", "info" if settings.log_level.upper() == "DEBUG" else "warn",
        ]  # fmt: skip
        if settings.temporal_namespace != "default":
            self.arguments += ["--namespace", settings.temporal_namespace]
        self.process: asyncio.subprocess.Process | None = None
        self._relay: asyncio.Task[None] | None = None
        self._stopping = False
        self._logger = logging.getLogger(TEMPORAL_LOGGER)

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.arguments,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            limit=1 << 20,
        )
        log.info(
            "Temporal dev server started",
            extra={"pid": self.process.pid, "command": " ".join(self.arguments)},
        )
        self._relay = asyncio.create_task(self._relay_output(), name="temporal-output")

    async def _relay_output(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            relog_temporal_line(
                line.decode(errors="replace"), self._logger, stopping=self._stopping
            )

    async def exited(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    async def listening(self) -> None:
        """Return once the gRPC port accepts connections."""
        while True:
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(POLL_INTERVAL)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    async def stop(self, grace: float) -> None:
        """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
        process = self.process
        if process is None:
            return
        if process.returncode is None:
            log.info("stopping Temporal dev server", extra={"pid": process.pid})
            self._stopping = True
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                async with asyncio.timeout(grace):
                    await process.wait()
            except TimeoutError:
                log.warning(
                    "Temporal dev server did not stop in time, killing it",
                    extra={"pid": process.pid},
                )
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._relay is not None:
            # Its last lines; bounded, in case something else still holds the pipe open.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5.0):
                    await self._relay
        log.info("Temporal dev server stopped", extra={"exit_code": process.returncode})


# --- SMTP sink -----------------------------------------------------------------------------


class MailSink:
    """aiosmtpd handler: accepts every message, logs one line, keeps it as an .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._logger = logging.getLogger(SMTP_LOGGER)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content.encode() if isinstance(content, str) else content
        received = datetime.now(UTC)
        path = self.folder / f"{received:%Y%m%dT%H%M%S.%fZ}-{uuid4().hex[:8]}.eml"
        path.write_bytes(raw)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self._logger.info(
            "mail received",
            extra={
                "mail_from": envelope.mail_from,
                "rcpt_to": ",".join(envelope.rcpt_tos),
                "subject": str(message.get("Subject", "")),
                "bytes": len(raw),
                "file": str(path),
            },
        )
        return "250 Message accepted for delivery"


# --- API -----------------------------------------------------------------------------------


class EmbeddedApiServer(uvicorn.Server):
    """uvicorn without its own signal handling: the dev stack owns SIGINT/SIGTERM.

    uvicorn 0.54 swaps in its handlers around `serve()` (`capture_signals`) and re-raises the
    signal after shutting down, which would end the process before the worker and Temporal
    are stopped.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_api(server: uvicorn.Server) -> None:
    try:
        await server.serve()
    except SystemExit as exit_:
        # uvicorn calls sys.exit(1) when it cannot bind; inside a task that would skip cleanup.
        raise RuntimeError("the API server could not start (see the error above)") from exit_


# --- the stack -----------------------------------------------------------------------------


class DevStack:
    """Starts the parts in order, watches them, and stops them in reverse order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.demo_logins: list[DemoLogin] = []
        host, port = split_address(settings.temporal_address)
        self.temporal = TemporalDevServer(
            find_temporal_binary(),
            host,
            port,
            port + TEMPORAL_UI_PORT_OFFSET,
            settings.data_dir / "temporal.db",
            settings,
        )
        self.mail_dir = settings.data_dir / "mail"
        self.smtp = Controller(
            MailSink(self.mail_dir), hostname=settings.smtp_host, port=settings.smtp_port
        )
        self.smtp_started = False
        config = uvicorn.Config(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            lifespan="on",
            access_log=False,  # the app logs every request itself, with its request id
            timeout_graceful_shutdown=int(API_STOP_TIMEOUT // 2),
        )
        self.api = EmbeddedApiServer(config)
        self.stop_requested = asyncio.Event()
        self.worker_stop = asyncio.Event()
        self.worker_ready = asyncio.Event()
        self.inbound_stop = asyncio.Event()
        self.inbound_ready = asyncio.Event()
        self.forced = False
        self.watched: dict[asyncio.Future[Any], str] = {}

    # signals

    def on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if not self.stop_requested.is_set():
            log.info("stopping the dev stack", extra={"signal": name})
            self.stop_requested.set()
            return
        log.warning("second signal: forcing the stop", extra={"signal": name})
        self.forced = True
        self.api.force_exit = True
        self.temporal.kill()

    # running

    def watch(self, awaitable: Awaitable[Any], what: str) -> asyncio.Future[Any]:
        future = asyncio.ensure_future(awaitable)
        self.watched[future] = what
        return future

    async def until(self, goal: Awaitable[Any]) -> bool:
        """Wait for `goal`; False if a stop was requested or a watched part ended first."""
        goal_future = asyncio.ensure_future(goal)
        done, _ = await asyncio.wait(
            {goal_future, *self.watched}, return_when=asyncio.FIRST_COMPLETED
        )
        if goal_future in done:
            return True
        goal_future.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await goal_future
        return False

    def exit_code(self) -> int:
        """0 if the person asked for the stop, 1 (with the reason logged) if a part ended first."""
        for future, what in self.watched.items():
            if what == "stop requested" or not future.done():
                continue
            if future.cancelled():
                log.error("%s was cancelled", what)
            elif (error := future.exception()) is not None:
                log.error("%s failed: %s", what, error, exc_info=error)
            elif isinstance(result := future.result(), int):
                log.error("%s exited on its own", what, extra={"exit_code": result})
            else:
                log.error("%s ended on its own", what)
            return 1
        return 0

    async def run(self) -> int:
        self.watch(self.stop_requested.wait(), "stop requested")
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        try:
            await self.temporal.start()
            self.watch(self.temporal.exited(), "the Temporal dev server")
            self.watch(
                asyncio.create_task(
                    run_inbound(self.settings, self.inbound_stop, self.inbound_ready)
                ),
                "the inbound SMTP server",
            )
            await asyncio.to_thread(self.smtp.start)
            self.smtp_started = True
            logging.getLogger(SMTP_LOGGER).info(
                "SMTP sink listening",
                extra={"address": f"{self.settings.smtp_host}:{self.settings.smtp_port}"},
            )
            if not await self.until(self.temporal.listening()):
                return self.exit_code()
            self.watch(
                asyncio.create_task(run_worker(self.settings, self.worker_stop, self.worker_ready)),
                "the worker",
            )
            self.watch(asyncio.create_task(serve_api(self.api)), "the API")
            if not await self.until(self.worker_ready.wait()) or not await self.until(
                self.api_started()
            ):
                return self.exit_code()
            self.print_urls()
            await asyncio.wait(self.watched, return_when=asyncio.FIRST_COMPLETED)
            return self.exit_code()
        finally:
            await self.shutdown()

    async def api_started(self) -> None:
        # uvicorn exposes a flag, not an event, for "listening".
        while not self.api.started:  # noqa: ASYNC110
            await asyncio.sleep(POLL_INTERVAL)

    def print_urls(self) -> None:
        settings = self.settings
        api = f"http://{browser_host(settings.api_host)}:{settings.api_port}"
        temporal_ui = f"http://{browser_host(self.temporal.host)}:{self.temporal.ui_port}"
        graphql = "GraphiQL" if settings.graphiql else "GraphQL"
        sys.stdout.write(
            "\nCRM dev stack is up\n"
            f"  {graphql:<12} {api}/graphql\n"
            f"  {'Temporal UI':<12} {temporal_ui}\n"
            f"  {'SMTP sink':<12} {settings.smtp_host}:{settings.smtp_port}"
            f" (messages saved in {self.mail_dir})\n"
            f"  {'Inbound':<12} {settings.inbound_host}:{settings.inbound_port}"
            f" (mail to sales@<agency slug>.{settings.inbound_domain})\n"
            f"  {'Data folder':<12} {settings.data_dir}\n"
            + self.demo_banner()
            + "Press Ctrl-C to stop.\n\n"
        )
        sys.stdout.flush()

    def demo_banner(self) -> str:
        if not self.demo_logins:
            return ""
        lines = [f"Demo agency logins (password {self.demo_logins[0].password}):"]
        lines += [f"  {login.role.value:<17} {login.email}" for login in self.demo_logins]
        return "\n".join(lines) + "\n"

    # stopping: API, worker, SMTP, then Temporal; each step logs its own trouble and moves on

    def task_for(self, what: str) -> asyncio.Future[Any] | None:
        return next((future for future, name in self.watched.items() if name == what), None)

    async def shutdown(self) -> None:
        api = self.task_for("the API")
        if api is not None and not api.done():
            self.api.should_exit = True
            await self.settle(api, API_STOP_TIMEOUT, "the API")
        worker = self.task_for("the worker")
        if worker is not None and not worker.done():
            self.worker_stop.set()
            await self.settle(worker, WORKER_STOP_TIMEOUT, "the worker")
        inbound = self.task_for("the inbound SMTP server")
        if inbound is not None and not inbound.done():
            self.inbound_stop.set()
            await self.settle(inbound, SMTP_STOP_TIMEOUT, "the inbound SMTP server")
        if self.smtp_started:
            try:
                async with asyncio.timeout(SMTP_STOP_TIMEOUT):
                    await asyncio.to_thread(self.smtp.stop)
                logging.getLogger(SMTP_LOGGER).info("SMTP sink stopped")
            except Exception:
                log.exception("the SMTP sink did not stop cleanly")
        await self.temporal.stop(0.0 if self.forced else TEMPORAL_STOP_TIMEOUT)
        for future in self.watched:
            if not future.done():
                future.cancel()
        await asyncio.gather(*self.watched, return_exceptions=True)

    async def settle(self, future: asyncio.Future[Any], grace: float, what: str) -> None:
        try:
            async with asyncio.timeout(grace):
                await asyncio.shield(future)
        except TimeoutError:
            log.warning("%s did not stop within %.0f s, cancelling it", what, grace)
            future.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await future
        except Exception:
            log.exception("%s failed while stopping", what)


async def run_dev_stack(settings: Settings) -> int:
    """Run the embedded stack until Ctrl-C / SIGTERM; the process exit code."""
    try:
        check_ports(settings)
        stack = DevStack(settings)
    except DevStackError as error:
        for line in str(error).splitlines():
            log.error(line)
        return 1
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stack.on_signal, signum)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        log.info("applying migrations", extra={"database": redact_url(settings.database_url)})
        # A Tortoise context of its own: the migration's connections must not leak into the
        # API's (uvicorn runs the lifespan in a task that copies this task's context).
        async with TortoiseContext():
            await migrate(settings.database_url)
        if settings.environment is Environment.DEV:
            async with database(settings.database_url, settings.database_lock_wait):
                stack.demo_logins, created = await seed_demo_agency()
            if created:
                log.info("demo agency created", extra={"agency": DEMO_SLUG})
        if stack.stop_requested.is_set():
            return 0
        return await stack.run()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
