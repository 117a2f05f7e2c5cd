"""Flow activities on real databases: each change once per attempt key, refusals not retried."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.flows import (
    AssignInput,
    CreateCallingTaskInput,
    FlowProgress,
    LifecycleEventInput,
    NotifyInput,
    RecordRef,
    apply_lifecycle_event,
    assign_record,
    create_calling_task,
    notify_user,
    read_record,
    record_flow_progress,
)
from db.audit import AuditEntry
from db.calling_tasks import CallingTask
from db.contacts import Contact
from db.deals import Deal
from db.events import Event
from db.flow_runs import FlowRun
from db.leads import Lead
from db.notifications import Notification
from db.users import User
from domain.actors import Actor
from domain.contacts import create_contact
from domain.flows.definitions import FlowRunStatus
from domain.leads import create_lead
from domain.notification_kinds import NotificationKind
from tests.fixtures.databases import OpenDatabase

WORKFLOW_ID = "flow:contact-conversion:contact:x:1"


def attempt(number: int, activity_id: str = "7") -> ActivityEnvironment:
    """An attempt of one activity of one workflow run, as Temporal would run it."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        workflow_id=WORKFLOW_ID,
        workflow_run_id="0f6a6c1e-0000-4000-8000-000000000001",
        activity_id=activity_id,
        attempt=number,
    )
    return env


@pytest.fixture
async def ada(db: OpenDatabase) -> Contact:
    actor = Actor.system(uuid.uuid4(), "test")
    return await create_contact(actor, {"first_name": "Ada", "emails": ["ada@example.com"]})


def ref(contact: Contact) -> RecordRef:
    return RecordRef(
        agency_id=str(contact.agency_id),
        record_type="contact",
        record_id=str(contact.id),
        flow_key="contact-conversion",
    )


async def test_a_retried_transition_activity_applies_the_event_once(ada: Contact) -> None:
    request = LifecycleEventInput(record=ref(ada), event="mark_hot")

    first = await attempt(1).run(apply_lifecycle_event, request)
    retried = await attempt(2).run(apply_lifecycle_event, request)

    assert first == retried == "hot"
    transitions = await AuditEntry.filter(entity_id=str(ada.id), action="transition:mark_hot")
    assert len(transitions) == 1
    assert transitions[0].actor_id == "system:flow:contact-conversion"
    assert transitions[0].request_id == "0f6a6c1e-0000-4000-8000-000000000001"


async def test_a_refused_transition_is_not_retried_and_changes_nothing(ada: Contact) -> None:
    request = LifecycleEventInput(record=ref(ada), event="convert")

    with pytest.raises(ApplicationError) as refused:
        await attempt(1).run(apply_lifecycle_event, request)

    assert (refused.value.type, refused.value.non_retryable) == ("INVALID_TRANSITION", True)
    assert (await Contact.get(id=ada.id)).status == "new"


async def test_a_retried_notify_activity_leaves_one_notification(ada: Contact) -> None:
    owner = await User.create(
        agency_id=ada.agency_id,
        email="olive@example.com",
        name="Olive Owner",
        password_hash="-",
        roles=["sales_person"],
    )
    request = NotifyInput(record=ref(ada), user_id=str(owner.id), message="Call Ada")

    first = await attempt(1).run(notify_user, request)
    retried = await attempt(2).run(notify_user, request)

    assert first == retried
    assert [n.message for n in await Notification.filter(user_id=owner.id)] == ["Call Ada"]


async def test_notifying_a_user_of_another_agency_is_refused(ada: Contact) -> None:
    request = NotifyInput(record=ref(ada), user_id=str(uuid.uuid4()), message="Call Ada")

    with pytest.raises(ApplicationError) as refused:
        await attempt(1).run(notify_user, request)

    assert (refused.value.type, refused.value.non_retryable) == ("USER_NOT_FOUND", True)


async def test_reading_a_deleted_or_foreign_record_is_refused(ada: Contact) -> None:
    foreign = dataclasses.replace(ref(ada), agency_id=str(uuid.uuid4()))

    with pytest.raises(ApplicationError) as refused:
        await attempt(1).run(read_record, foreign)
    snapshot = await attempt(1).run(read_record, ref(ada))

    assert (refused.value.type, refused.value.non_retryable) == ("NOT_FOUND", True)
    assert (snapshot["first_name"], snapshot["emails"]) == ("Ada", ["ada@example.com"])


async def test_a_late_progress_report_never_overwrites_a_newer_one(ada: Contact) -> None:
    await FlowRun.create(
        agency_id=ada.agency_id,
        workflow_id=WORKFLOW_ID,
        flow_key="contact-conversion",
        version=1,
        record_type="contact",
        record_id=str(ada.id),
        status="pending",
    )
    wake = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)

    def report(seq: int, status: FlowRunStatus, step: str) -> FlowProgress:
        return FlowProgress(str(ada.agency_id), seq, status, step, wake + timedelta(days=seq))

    await attempt(1).run(record_flow_progress, report(2, FlowRunStatus.WAITING, "wait"))
    await attempt(1).run(record_flow_progress, report(1, FlowRunStatus.RUNNING, "first"))

    run = await FlowRun.get(workflow_id=WORKFLOW_ID)
    assert (run.status, run.current_step, run.progress_seq) == ("waiting", "wait", 2)
    assert run.next_wake_at == wake + timedelta(days=2)


async def test_a_stopped_run_reports_its_reason_with_its_end(ada: Contact) -> None:
    await FlowRun.create(
        agency_id=ada.agency_id,
        workflow_id=WORKFLOW_ID,
        flow_key="contact-nurture",
        version=1,
        record_type="contact",
        record_id=str(ada.id),
        status="waiting",
    )
    stopped = FlowProgress(
        str(ada.agency_id), 3, FlowRunStatus.STOPPED, "wait-for-interest", None, "", "replied"
    )

    await attempt(1).run(record_flow_progress, stopped)

    run = await FlowRun.get(workflow_id=WORKFLOW_ID)
    assert (run.status, run.stop_reason, run.current_step) == (
        "stopped",
        "replied",
        "wait-for-interest",
    )
    assert run.finished_at is not None
    [event] = await Event.filter(type="flow_run.progressed", aggregate_id=str(run.id))
    assert (event.payload["status"], event.payload["stop_reason"]) == ("stopped", "replied")


async def colleague(agency_id: uuid.UUID, name: str, role: str) -> User:
    return await User.create(
        agency_id=agency_id,
        email=f"{name}-{uuid.uuid4().hex[:6]}@example.com",
        name=name,
        password_hash="-",
        roles=[role],
    )


def task_request(contact: Contact, assignee: str) -> CreateCallingTaskInput:
    return CreateCallingTaskInput(
        record=ref(contact),
        about="record",
        subject="Call Ada",
        notes="About the demo",
        due_at=datetime(2030, 1, 2, 9, 0, tzinfo=UTC),
        assignee=assignee,
    )


async def test_a_retried_create_calling_task_activity_creates_one_task(ada: Contact) -> None:
    sue = await colleague(ada.agency_id, "sue", "customer_support")
    request = task_request(ada, "role:customer_support")

    first = await attempt(1, "9").run(create_calling_task, request)
    retried = await attempt(2, "9").run(create_calling_task, request)

    assert first == retried
    [task] = await CallingTask.filter(contact_id=ada.id)
    assert (str(task.id), task.assignee_id) == (first.task_id, sue.id)
    assert (task.subject, task.notes, task.status) == ("Call Ada", "About the demo", "new")
    assert task.due_at == datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    # Through the calling task service: its audit row, as the flow's system user.
    [created] = await AuditEntry.filter(entity_id=str(task.id), action="create")
    assert created.actor_id == "system:flow:contact-conversion"


async def test_a_role_means_its_least_busy_user_then_the_first_created(ada: Contact) -> None:
    sue = await colleague(ada.agency_id, "sue", "customer_support")
    sam = await colleague(ada.agency_id, "sam", "customer_support")
    await colleague(ada.agency_id, "ines", "customer_support")
    await colleague(uuid.uuid4(), "other", "customer_support")  # another agency: never

    # Nobody has open tasks: the first created. Then the one with fewer open tasks.
    first = await attempt(1, "1").run(
        create_calling_task, task_request(ada, "role:customer_support")
    )
    second = await attempt(1, "2").run(
        create_calling_task, task_request(ada, "role:customer_support")
    )
    assert (first.assignee_id, second.assignee_id) == (str(sue.id), str(sam.id))
    # Done tasks do not count as open work.
    await CallingTask.filter(id=first.task_id).update(status="done")
    third = await attempt(1, "3").run(
        create_calling_task, task_request(ada, "role:customer_support")
    )
    assert third.assignee_id == str(sue.id)


async def test_a_role_nobody_holds_falls_back_to_an_admin(ada: Contact) -> None:
    admin = await colleague(ada.agency_id, "adam", "admin")
    created = await attempt(1).run(create_calling_task, task_request(ada, "role:sales_head"))
    assert created.assignee_id == str(admin.id)

    request = NotifyInput(record=ref(ada), user_id="", message="Overdue", person="role:sales_head")
    await attempt(1, "8").run(notify_user, request)
    told = Notification.filter(user_id=admin.id).exclude(
        kind=NotificationKind.CALLING_TASK_ASSIGNED  # the call it was given: another test's
    )
    assert [n.message for n in await told] == ["Overdue"]


async def test_a_role_in_an_agency_without_anyone_to_pick_is_refused(ada: Contact) -> None:
    with pytest.raises(ApplicationError) as refused:
        await attempt(1).run(create_calling_task, task_request(ada, "role:sales_head"))

    assert (refused.value.type, refused.value.non_retryable) == ("NOBODY_WITH_ROLE", True)
    assert await CallingTask.filter(contact_id=ada.id).count() == 0


async def test_a_retried_assign_activity_gives_the_record_away_once(ada: Contact) -> None:
    sue = await colleague(ada.agency_id, "sue", "customer_support")
    request = AssignInput(record=ref(ada), as_="owner", person=str(sue.id))

    first = await attempt(1).run(assign_record, request)
    retried = await attempt(2).run(assign_record, request)

    assert first == retried == str(sue.id)
    assert (await Contact.get(id=ada.id)).owner_id == sue.id
    assert await AuditEntry.filter(entity_id=str(ada.id), action="update").count() == 1


def lead_ref(lead: Lead) -> RecordRef:
    return RecordRef(str(lead.agency_id), "lead", str(lead.id), "lead-follow-up")


async def sales_lead(contact: Contact) -> Lead:
    owner = await colleague(contact.agency_id, "sam", "sales_person")
    data = {"title": "Engines", "services": ["install"], "contact_id": contact.id}
    return await create_lead(
        Actor.system(contact.agency_id, "test"), {**data, "owner_id": owner.id}
    )


async def test_a_call_a_lead_flow_makes_is_about_the_lead_and_calls_its_contact(
    ada: Contact,
) -> None:
    lead = await sales_lead(ada)
    request = dataclasses.replace(task_request(ada, "owner"), record=lead_ref(lead))

    created = await attempt(1, "9").run(create_calling_task, request)

    task = await CallingTask.get(id=created.task_id)
    assert (task.lead_id, task.contact_id, task.assignee_id) == (lead.id, ada.id, lead.owner_id)


async def test_a_lead_flow_converts_its_lead_but_changes_no_deal_status(ada: Contact) -> None:
    lead = await sales_lead(ada)
    for activity_id, event in (("1", "qualify"), ("2", "convert")):
        request = LifecycleEventInput(record=lead_ref(lead), event=event)
        await attempt(1, activity_id).run(apply_lifecycle_event, request)
    deal = await Deal.get(lead_id=lead.id)
    deal_ref = RecordRef(str(deal.agency_id), "deal", str(deal.id), "stalled-deal")

    with pytest.raises(ApplicationError) as refused:
        await attempt(1, "3").run(apply_lifecycle_event, LifecycleEventInput(deal_ref, "win"))

    assert (refused.value.type, refused.value.non_retryable) == ("INVALID", True)
    assert ((await Lead.get(id=lead.id)).status, (await Deal.get(id=deal.id)).status) == (
        "converted",
        "open",
    )
