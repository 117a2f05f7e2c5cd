"""Versioned flow definitions: seeding, drafts, validation, publishing, rollback, audit, scope."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from crm.flow_files import load_default_flows
from db.audit import AuditEntry
from db.events import Event
from db.flows import FlowVersion
from domain.actors import Actor
from domain.errors import DomainError, DomainErrors
from domain.flows import service
from domain.flows.definitions import FlowDefinition
from domain.flows.service import (
    create_draft,
    create_flow,
    edit_draft,
    get_flow,
    list_flows,
    list_versions,
    publish_draft,
    published_definitions,
    published_version,
    roll_back,
    seed_default_flows,
    validate_draft,
)
from tests.fixtures.databases import OpenDatabase
from tests.fixtures.flows import DEFAULT_FLOWS

NURTURE = "contact-nurture"


@pytest.fixture
def defaults() -> list[FlowDefinition]:
    return load_default_flows(DEFAULT_FLOWS)


@pytest.fixture
async def sysadmin(db: OpenDatabase, defaults: list[FlowDefinition]) -> Actor:
    """A sysadmin of an agency whose default flows are published."""
    agency_id = uuid.uuid4()
    await seed_default_flows(agency_id, defaults)
    return Actor.system(agency_id, "sysadmin")


async def draft_with(actor: Actor, change: dict[str, Any], replace: bool = False) -> dict[str, Any]:
    """A draft of the nurture flow with its day-3 email step (steps[2]) changed or replaced."""
    await create_draft(actor, NURTURE)
    document = copy.deepcopy((await list_versions(actor, NURTURE))[0].document)
    index = next(i for i, s in enumerate(document["steps"]) if s["id"] == "day-3")
    if replace:
        document["steps"][index] = {"id": "day-3", **change}
    else:
        step = document["steps"][index]
        if "subject" in change:  # from the default's template to inline text
            step.pop("template", None)
            step.setdefault("body", "Hello {first_name}")
        step.update(change)
    await edit_draft(actor, NURTURE, document)
    return document


async def test_seeding_publishes_each_default_as_version_one_only_once(
    db: OpenDatabase, defaults: list[FlowDefinition]
) -> None:
    agency_id = uuid.uuid4()

    first = await seed_default_flows(agency_id, defaults)
    second = await seed_default_flows(agency_id, defaults)

    assert first == [
        "contact-nurture",
        "customer-onboarding",
        "contact-conversion",
        "calling-task-reminders",
    ]
    assert second == []
    actor = Actor.system(agency_id, "test")
    assert [flow.key for flow in await list_flows(actor)] == [
        "calling-task-reminders",
        "contact-conversion",
        "contact-nurture",
        "customer-onboarding",
    ]
    current = await published_version(actor, NURTURE)
    assert current is not None
    assert (current.version, current.status, current.trigger_event) == (
        1,
        "published",
        "contact.created",
    )
    assert await Event.filter(agency_id=agency_id, type="flow.published").count() == 4


async def test_an_agency_that_changed_a_default_keeps_its_version_on_the_next_start(
    sysadmin: Actor, defaults: list[FlowDefinition]
) -> None:
    await draft_with(sysadmin, {"subject": "Still keen?"})
    await publish_draft(sysadmin, NURTURE)

    assert await seed_default_flows(sysadmin.agency_id, defaults) == []

    current = await published_version(sysadmin, NURTURE)
    assert current is not None
    assert current.version == 2


async def test_publishing_a_draft_makes_a_new_version_and_archives_the_old_one(
    sysadmin: Actor,
) -> None:
    await draft_with(sysadmin, {"subject": "Still keen, {first_name}?"})

    published = await publish_draft(sysadmin, NURTURE)

    versions = await list_versions(sysadmin, NURTURE)
    assert [(v.version, v.status) for v in versions] == [(2, "published"), (1, "archived")]
    assert published.document["version"] == 2
    day_3 = next(s for s in published.document["steps"] if s["id"] == "day-3")
    assert day_3["subject"] == "Still keen, {first_name}?"
    first = versions[1].document
    assert next(s for s in first["steps"] if s["id"] == "day-3")["template"] == (
        "contact-nurture-day-3"
    ), "publishing changed an earlier version"
    audit = await AuditEntry.filter(entity_type="flow", action="published").order_by("-id")
    assert audit[0].actor_id == "system:sysadmin"
    assert audit[0].after["version"] == 2


async def test_a_published_version_cannot_be_edited(sysadmin: Actor) -> None:
    current = await published_version(sysadmin, NURTURE)
    assert current is not None

    with pytest.raises(DomainError) as refused:
        await edit_draft(sysadmin, NURTURE, current.document)

    assert refused.value.code == "NO_DRAFT"
    assert (await FlowVersion.get(id=current.id)).document == current.document


async def test_validation_lists_every_problem_with_the_path_of_the_bad_step(
    sysadmin: Actor,
) -> None:
    await draft_with(sysadmin, {"goto": "nowhere", "subject": "Hi {favourite_colour}"})

    problems = [str(problem) for problem in await validate_draft(sysadmin, NURTURE)]

    assert problems == [
        "steps[2].goto: unknown step 'nowhere'",
        "steps[2].subject: unknown field {favourite_colour}",
    ]


async def test_publishing_an_invalid_draft_is_refused_with_each_problem_as_an_error(
    sysadmin: Actor,
) -> None:
    await draft_with(sysadmin, {"type": "transition", "event": "promote"}, replace=True)

    with pytest.raises(DomainErrors) as refused:
        await publish_draft(sysadmin, NURTURE)

    [error] = refused.value.errors
    assert (error.code, error.field) == ("INVALID_DEFINITION", "steps[2].event")
    assert error.message.startswith("unknown lifecycle event 'promote' for contact records")
    current = await published_version(sysadmin, NURTURE)
    assert current is not None
    assert current.version == 1


async def test_rolling_back_publishes_a_copy_of_the_earlier_version_as_the_newest(
    sysadmin: Actor,
) -> None:
    await draft_with(sysadmin, {"subject": "Version two"})
    await publish_draft(sysadmin, NURTURE)

    rolled_back = await roll_back(sysadmin, NURTURE, 1)

    versions = await list_versions(sysadmin, NURTURE)
    assert [(v.version, v.status) for v in versions] == [
        (3, "published"),
        (2, "archived"),
        (1, "archived"),
    ]
    assert rolled_back.based_on == 1
    assert {**rolled_back.document, "version": 1} == versions[2].document


async def test_a_draft_taken_before_a_rollback_cannot_silently_undo_it(sysadmin: Actor) -> None:
    await draft_with(sysadmin, {"subject": "Version two"})
    await publish_draft(sysadmin, NURTURE)
    await draft_with(sysadmin, {"subject": "Version three"})
    await roll_back(sysadmin, NURTURE, 1)

    with pytest.raises(DomainError) as refused:
        await publish_draft(sysadmin, NURTURE)

    assert refused.value.code == "DRAFT_OUTDATED"


async def test_a_second_draft_is_refused_while_one_is_open(sysadmin: Actor) -> None:
    await create_draft(sysadmin, NURTURE)

    with pytest.raises(DomainError) as refused:
        await create_draft(sysadmin, NURTURE)

    assert refused.value.code == "DRAFT_EXISTS"


async def test_a_new_flow_starts_as_a_draft_and_its_key_cannot_change(sysadmin: Actor) -> None:
    document = {
        "key": "hot-alert",
        "name": "Hot alert",
        "record_type": "contact",
        "trigger": {"event": "contact.transitioned", "status": "hot"},
        "steps": [{"id": "tell", "type": "notify", "to": "owner", "message": "{first_name}"}],
    }
    draft = await create_flow(sysadmin, document)

    with pytest.raises(DomainError) as renamed:
        await edit_draft(sysadmin, "hot-alert", {**document, "key": "other"})
    with pytest.raises(DomainError) as taken:
        await create_flow(sysadmin, document)
    published = await publish_draft(sysadmin, "hot-alert")

    assert (draft.status, draft.version) == ("draft", None)
    assert renamed.value.code == "KEY_MISMATCH"
    assert taken.value.code == "KEY_TAKEN"
    assert (published.version, published.trigger_status) == (1, "hot")
    assert [d.key for d in await published_definitions(sysadmin)] == [
        "calling-task-reminders",
        "contact-conversion",
        "contact-nurture",
        "customer-onboarding",
        "hot-alert",
    ]


async def test_an_agency_has_a_bounded_number_of_flows(
    sysadmin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_FLOWS", 5)  # four defaults are published
    document = {
        "key": "fifth",
        "name": "Fifth",
        "record_type": "lead",
        "trigger": {"manual": True},
        "steps": [{"id": "tell", "type": "notify", "to": "owner", "message": "{title}"}],
    }
    await create_flow(sysadmin, document)

    with pytest.raises(DomainError) as refused:
        await create_flow(sysadmin, {**document, "key": "sixth"})

    assert (refused.value.code, refused.value.field) == ("TOO_MANY", "key")
    assert len(await list_flows(sysadmin)) == 5


async def test_another_agency_cannot_see_or_change_the_flows(sysadmin: Actor) -> None:
    outsider = Actor.system(uuid.uuid4(), "outsider")

    with pytest.raises(DomainError) as hidden:
        await get_flow(outsider, NURTURE)
    with pytest.raises(DomainError) as unchanged:
        await create_draft(outsider, NURTURE)

    assert hidden.value.code == unchanged.value.code == "NOT_FOUND"
    assert await list_flows(outsider) == []
