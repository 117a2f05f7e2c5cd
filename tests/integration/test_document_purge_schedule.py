"""The daily purge of deleted documents on the real Temporal dev server: the worker's schedule
exists once however often it is created, and a run of it erases exactly the documents deleted
longer ago than the retention period (bytes and rows)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import (
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.documents import DocumentActivities
from crm.schedules import DOCUMENT_PURGE_EVERY, DOCUMENT_PURGE_SCHEDULE, ensure_schedules
from db.documents import Document
from domain import customers, documents
from domain.actors import Actor
from domain.agencies import bootstrap_agency
from domain.storage import LocalFolderStorage
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.temporal import delete_schedules
from workflows.document_purge import PurgeDeletedDocuments

RETENTION = timedelta(days=30)
WAIT = 30.0


async def chunks(content: bytes) -> AsyncIterator[bytes]:
    yield content


def stored_bytes(root: Path) -> list[bytes]:
    return sorted(path.read_bytes() for path in root.rglob("*") if path.is_file())


async def test_the_daily_schedule_purges_documents_past_their_retention(
    db: OpenDatabase, temporal_dev_env: WorkflowEnvironment, task_queue: str, tmp_path: Path
) -> None:
    agency, admin, _ = await bootstrap_agency(
        "Acme", "acme", "admin@acme.example.com", "Ada", "long enough password"
    )
    actor = Actor.system(agency.id, "test")
    customer = await customers.create_customer(actor, {"name": "Globex", "owner_id": admin.id})
    storage = LocalFolderStorage(tmp_path / "documents")
    limits = documents.UploadLimits(max_bytes=1_000, allowed_content_types=frozenset())
    stored = {}
    for name in ("kept.pdf", "recent.pdf", "old.pdf"):
        stored[name] = await documents.upload_document(
            actor,
            storage,
            limits,
            "customer",
            customer.id,
            name,
            "application/pdf",
            chunks(name.encode()),
        )
    for name in ("recent.pdf", "old.pdf"):
        await documents.delete_document(actor, stored[name].id)
    long_ago = datetime.now(UTC) - RETENTION - timedelta(days=1)
    await Document.filter(id=stored["old.pdf"].id).update(deleted_at=long_ago)

    client = temporal_dev_env.client
    await delete_schedules(client)
    await ensure_schedules(client, task_queue)
    await ensure_schedules(client, task_queue)  # a second worker start: no error, no copy
    schedule = client.get_schedule_handle(DOCUMENT_PURGE_SCHEDULE)
    try:
        described = await schedule.describe()
        assert described.schedule.spec.intervals == [
            ScheduleIntervalSpec(every=DOCUMENT_PURGE_EVERY)
        ]
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("PurgeDeletedDocuments", task_queue)

        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[PurgeDeletedDocuments],
            activities=[DocumentActivities(storage, RETENTION).purge_deleted_documents],
        )
        async with worker:
            await schedule.trigger()  # what 00:00 UTC does every day
            async with asyncio.timeout(WAIT):
                while not (described := await schedule.describe()).info.recent_actions:  # noqa: ASYNC110 (polling the server)
                    await asyncio.sleep(0.1)
                started = described.info.recent_actions[-1].action
                assert isinstance(started, ScheduleActionExecutionStartWorkflow)
                run = client.get_workflow_handle(started.workflow_id)
                assert await run.result() == 1
    finally:
        await delete_schedules(client)

    left = sorted(document.file_name for document in await Document.all())
    assert left == ["kept.pdf", "recent.pdf"]
    assert stored_bytes(tmp_path / "documents") == [b"kept.pdf", b"recent.pdf"]
