"""The outbox relay against real Temporal servers: reliable starts, no double starts, outages."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from db.busy import is_busy
from db.connection import database
from db.outbox import OutboxMessage
from domain.contacts import delete_contact
from domain.flow_triggers import SIGNAL_RECORD_EVENT, signal_run
from domain.flows.definitions import FlowRunStatus
from domain.outbox import OutboxKind
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.flows import Flows, eventually, prepare_flows
from tests.fixtures.smtp import SmtpServer, free_port
from tests.fixtures.temporal import SERVER_STARTUP_LIMIT, installed_tool
from tests.fixtures.write_locks import another_writer
from workflows import DATA_CONVERTER

pytestmark = pytest.mark.parametrize("database_source", ["sqlite"], indirect=True)


async def start_message(flows: Flows) -> OutboxMessage:
    message = await OutboxMessage.filter(
        agency_id=flows.agency_id, kind=OutboxKind.START_FLOW
    ).first()
    assert message is not None
    return message


async def test_with_temporal_down_the_change_commits_and_its_flow_runs_once_temporal_is_up(
    db: OpenDatabase, task_queue: str, smtp_server: SmtpServer
) -> None:
    port = free_port()  # nothing listens there yet: Temporal is down
    client = await Client.connect(f"127.0.0.1:{port}", lazy=True, data_converter=DATA_CONVERTER)
    flows = await prepare_flows(client, task_queue, smtp_server, skips_time=False)

    ada = await flows.create_contact()  # the API's mutation needs only the database

    stop = asyncio.Event()
    relay = asyncio.create_task(flows.relay.run(stop))
    try:

        async def retried_while_down() -> OutboxMessage | None:
            message = await start_message(flows)
            return message if message.attempts >= 2 else None

        while_down = await eventually(retried_while_down)
        async with await WorkflowEnvironment.start_local(
            port=port,
            dev_server_existing_path=installed_tool("temporal"),
            data_converter=DATA_CONVERTER,
            dev_server_startup_timeout=SERVER_STARTUP_LIMIT,
        ) as temporal:

            async def delivered() -> OutboxMessage | None:
                message = await start_message(flows)
                return message if message.status == "delivered" else None

            async with flows.worker(temporal.client):  # a worker needs a connected client
                after = await eventually(delivered)
                nurture = await flows.run_of("contact-nurture", ada)
                await flows.reach(nurture, "wait-for-interest")
    finally:
        stop.set()
        await relay

    assert while_down.status == "pending"
    assert "connect" in while_down.last_error.lower(), while_down.last_error
    assert while_down.next_attempt_at > while_down.created_at, "retried without backing off"
    assert after.attempts > while_down.attempts
    assert [str(m.message["Subject"]) for m in smtp_server.messages] == ["Welcome, Ada"]


async def test_a_start_delivered_twice_still_starts_one_run(flows: Flows) -> None:
    ada = await flows.create_contact()
    await flows.relay_all()
    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        await flows.reach(nurture, "wait-for-interest")
        first = await nurture.describe()

        # As if the relay had crashed after starting the run and before marking the message.
        message = await start_message(flows)
        message.status = "pending"
        await message.save()
        await flows.relay_all()
        again = await nurture.describe()

    assert (await start_message(flows)).status == "delivered"
    assert again.run_id == first.run_id
    assert [str(m.message["Subject"]) for m in flows.smtp.messages] == ["Welcome, Ada"]


async def test_a_finished_run_drops_signals_instead_of_retrying_them(flows: Flows) -> None:
    ada = await flows.create_contact()
    await flows.relay_all()
    async with flows.worker():
        nurture = await flows.run_of("contact-nurture", ada)
        await flows.reach(nurture, "wait-for-interest")
        await delete_contact(flows.actor, ada.id)  # cancels the record's runs
        await flows.relay_all()
        assert (await flows.result(nurture)).status == FlowRunStatus.CANCELLED

    row = await flows.run_row("contact-nurture", ada)
    late = {"id": 999_999, "type": "contact.transitioned", "status": "hot"}
    async with in_transaction() as connection:
        await signal_run(row, SIGNAL_RECORD_EVENT, connection, late)
    await flows.relay_all()

    pending = await OutboxMessage.filter(agency_id=flows.agency_id, status="pending").count()
    assert pending == 0


async def test_a_relay_that_meets_a_busy_database_retries_and_starts_one_run(
    db: OpenDatabase, flows: Flows
) -> None:
    """Another process holds the write lock past the relay's wait: the pass fails after the
    start reached Temporal, the message stays pending, and the next pass finds the run
    already started and marks the message, without a second run."""
    ada = await flows.create_contact()
    async with database(db.url, timedelta(milliseconds=300)):
        async with another_writer(db.url, flows.agency_id):
            # A statement outside a transaction: Tortoise's "database is locked" error.
            with pytest.raises(OperationalError) as refused:
                await flows.relay.relay_due()
        assert is_busy(refused.value)
        assert (await start_message(flows)).status == "pending"
        first = await flows.run_of("contact-nurture", ada)
        started = await first.describe()

        assert (await flows.relay.relay_due()).delivered == 1
    assert (await start_message(flows)).status == "delivered"
    assert (await first.describe()).run_id == started.run_id
