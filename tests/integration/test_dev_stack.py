"""`crm dev` as a person runs it: a real process that comes up, serves, and stops on Ctrl-C.

Each test starts `python -m crm dev` with its own data folder and free ports, so it never meets
a developer's running stack, and kills whatever is left if an assertion fails halfway.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus

from crm.settings import Settings
from workflows import DATA_CONVERTER
from workflows.email_delivery import DeliverEmail, DeliverEmailInput

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE = 90.0
STOP_DEADLINE = 40.0
BANNER = "CRM dev stack is up"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_temporal_port() -> int:
    """A free port whose +1000 (the Temporal UI, by the CLI's convention) is free too."""
    for _ in range(100):
        port = free_port()
        if port + 1000 < 65536 and port_is_free(port + 1000):
            return port
    raise AssertionError("no free port pair for the Temporal dev server and its UI")


@dataclass
class Ports:
    api: int = field(default_factory=free_port)
    smtp: int = field(default_factory=free_port)
    temporal: int = field(default_factory=free_temporal_port)


def dev_environment(data_dir: Path, ports: Ports) -> dict[str, str]:
    """The parent's environment without its CRM_* settings, plus this test's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(
        CRM_ENVIRONMENT="dev",
        CRM_DATA_DIR=str(data_dir),
        CRM_DATABASE_URL=f"sqlite://{data_dir / 'crm.sqlite3'}",
        CRM_API_HOST="127.0.0.1",
        CRM_API_PORT=str(ports.api),
        CRM_SMTP_HOST="127.0.0.1",
        CRM_SMTP_PORT=str(ports.smtp),
        CRM_TEMPORAL_ADDRESS=f"127.0.0.1:{ports.temporal}",
        CRM_TEMPORAL_NAMESPACE="default",
        CRM_LOG_LEVEL="INFO",
    )
    return env


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, their children...), read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name is in parentheses and may hold spaces: split after the last ")".
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


class DevStackProcess:
    """`python -m crm dev` in its own session, its output collected line by line."""

    def __init__(self, data_dir: Path, ports: Ports, cwd: Path) -> None:
        self.ports = ports
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crm", "dev"],
            cwd=cwd,
            env=dev_environment(data_dir, ports),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Signals go to this process only, as from a terminal's Ctrl-C to its group leader.
            start_new_session=True,
        )
        self.seen_children: set[int] = set()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as output:
            for line in output:
                self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines[-200:])

    def wait_until(self, condition: Callable[[], bool], what: str, deadline: float) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if condition():
                return
            if self.process.poll() is not None:
                self._reader.join(timeout=5)
                pytest.fail(
                    f"crm dev exited with {self.process.returncode} while waiting for {what}:\n"
                    f"{self.output}"
                )
            time.sleep(0.1)
        pytest.fail(f"{what} did not happen within {deadline:.0f} s:\n{self.output}")

    def ready(self) -> bool:
        try:
            response = httpx.get(f"http://127.0.0.1:{self.ports.api}/readyz", timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def wait_until_up(self) -> None:
        self.wait_until(self.ready, "/readyz answering 200", START_DEADLINE)
        self.wait_until(lambda: BANNER in self.lines, "the URL banner", START_DEADLINE)
        self.seen_children = descendants(self.process.pid)

    def exit_code(self, deadline: float, after: str) -> int:
        try:
            code = self.process.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            pytest.fail(f"crm dev still ran {deadline:.0f} s after {after}:\n{self.output}")
        self._reader.join(timeout=5)
        return code

    def interrupt_and_wait(self) -> int:
        self.seen_children |= descendants(self.process.pid)
        self.process.send_signal(signal.SIGINT)
        return self.exit_code(STOP_DEADLINE, "SIGINT")

    def kill_everything(self) -> None:
        for pid in {self.process.pid} | self.seen_children | descendants(self.process.pid):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._reader.join(timeout=10)


@pytest.fixture
def start_dev_stack(tmp_path: Path) -> Iterator[Callable[[Path, Ports], DevStackProcess]]:
    started: list[DevStackProcess] = []

    def start(data_dir: Path, ports: Ports) -> DevStackProcess:
        # Run from an empty folder: no developer `.env` may leak into the test.
        stack = DevStackProcess(data_dir, ports, cwd=tmp_path)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        stack.kill_everything()


def in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a thread's own event loop, away from pytest-asyncio's loop."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def deliver_email(address: str, subject: str) -> str:
    """Run the DeliverEmail flow on the stack's worker; its result is the Message-ID."""
    client = await Client.connect(address, data_converter=DATA_CONVERTER)
    return await client.execute_workflow(
        DeliverEmail.run,
        DeliverEmailInput(to=["ada@example.com"], subject=subject, body="Hello Ada"),
        id=f"dev-stack-test-{uuid.uuid4()}",
        task_queue=Settings().task_queues.flows,
        execution_timeout=timedelta(seconds=60),
    )


async def start_parked_workflow(address: str, workflow_id: str) -> None:
    """A workflow nobody polls for: it stays Running, in the dev server's database only."""
    client = await Client.connect(address)
    await client.start_workflow(
        "ParkedForTheTest", id=workflow_id, task_queue=f"nobody-polls-{workflow_id}"
    )


async def workflow_status(address: str, workflow_id: str) -> WorkflowExecutionStatus | None:
    client = await Client.connect(address)
    return (await client.get_workflow_handle(workflow_id).describe()).status


@pytest.mark.temporal
def test_dev_stack_runs_a_flow_end_to_end_stops_cleanly_and_a_second_run_reuses_its_data(
    start_dev_stack: Callable[[Path, Ports], DevStackProcess], tmp_path: Path
) -> None:
    """One test for both runs: starting the whole stack is the slow part."""
    data_dir = tmp_path / "data"
    ports = Ports()
    address = f"127.0.0.1:{ports.temporal}"
    workflow_id = f"dev-stack-test-{uuid.uuid4()}"
    stack = start_dev_stack(data_dir, ports)

    stack.wait_until_up()
    assert stack.seen_children, "the Temporal dev server should run as a child process"
    # Temporal, the worker (with its database) and the SMTP sink, all in one flow.
    message_id = in_own_loop(deliver_email(address, "Welcome aboard"))
    stack.wait_until(
        lambda: any("logger=crm.smtp" in line and "Welcome aboard" in line for line in stack.lines),
        "the SMTP sink logging the message",
        10,
    )
    in_own_loop(start_parked_workflow(address, workflow_id))
    code = stack.interrupt_and_wait()

    assert code == 0, f"crm dev exited with {code}:\n{stack.output}"
    left = sorted(pid for pid in stack.seen_children if alive(pid))
    assert not left, f"child processes still running after crm dev exited: {left}"
    [saved] = data_dir.glob("mail/*.eml")
    message = email.message_from_bytes(saved.read_bytes(), policy=email.policy.default)
    assert (message["Message-ID"], message["Subject"]) == (message_id, "Welcome aboard")
    files = {name: (data_dir / name).stat().st_ino for name in ("temporal.db", "crm.sqlite3")}

    second = start_dev_stack(data_dir, ports)
    second.wait_until_up()
    status = in_own_loop(workflow_status(address, workflow_id))
    assert second.interrupt_and_wait() == 0, second.output

    assert status == WorkflowExecutionStatus.RUNNING, "Temporal's state should survive a restart"
    assert {name: (data_dir / name).stat().st_ino for name in files} == files, (
        "the second run should open the same files, not recreate them"
    )


def test_a_busy_temporal_port_is_reported_and_fails(
    start_dev_stack: Callable[[Path, Ports], DevStackProcess], tmp_path: Path
) -> None:
    ports = Ports()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports.temporal))
        squatter.listen()
        stack = start_dev_stack(tmp_path / "data", ports)
        code = stack.exit_code(60, "starting with its Temporal port taken")

    assert code != 0
    expected = f"Temporal dev server cannot listen on 127.0.0.1:{ports.temporal}"
    assert expected in stack.output, stack.output
    assert "CRM_TEMPORAL_ADDRESS" in stack.output
