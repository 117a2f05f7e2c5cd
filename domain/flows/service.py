"""Flow definitions of an agency: list, read, draft, edit, validate, publish, roll back, seed.

Only roles the access table grants `Resource.FLOWS` (sysadmins, admins) reach them; the
system actor (seeding, the CLI, flows themselves) is an admin.

Published versions never change, because runs are pinned to them: editing works on a draft,
and publishing (or rolling back) writes a new numbered version and archives the one before.
Every write runs in one transaction with its audit row and domain event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from db.flow_runs import FlowRun
from db.flows import Flow as Flow
from db.flows import FlowVersion as FlowVersion
from domain import flow_runs
from domain.actors import Actor
from domain.audit import record_audit
from domain.errors import DomainError, DomainErrors
from domain.events import append_event
from domain.flow_triggers import start_flow_run
from domain.flows.definitions import (
    DefinitionProblem,
    FlowDefinition,
    FlowVersionStatus,
    definition_problems,
    read_definition,
)
from domain.flows.records import flow_vocabulary, read_record
from domain.policies import require, scope
from domain.roles import Access, Resource, RowScope
from domain.row_locks import locked_in_agency

AGGREGATE = "flow"
# Drafts are stored before they are valid; this bounds what one can hold. A definition at
# every field limit (50 steps with 10,000-character bodies) still fits.
MAX_DRAFT_CHARACTERS = 600_000
# Flows an agency may have; each published one is read on every event it could trigger.
MAX_FLOWS = 100
DEFAULTS_ACTOR = "default-flows"


class FlowErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    VERSION_NOT_FOUND = "VERSION_NOT_FOUND"
    KEY_TAKEN = "KEY_TAKEN"
    KEY_MISMATCH = "KEY_MISMATCH"
    DRAFT_EXISTS = "DRAFT_EXISTS"
    NO_DRAFT = "NO_DRAFT"
    NOT_PUBLISHED = "NOT_PUBLISHED"
    DRAFT_OUTDATED = "DRAFT_OUTDATED"
    INVALID_DEFINITION = "INVALID_DEFINITION"
    TOO_LARGE = "TOO_LARGE"
    TOO_MANY = "TOO_MANY"
    ALREADY_RUNNING = "ALREADY_RUNNING"
    # Codes of the run controls and of access, so one enum covers what the API can answer.
    NOT_ACTIVE = "NOT_ACTIVE"
    NOT_STALLED = "NOT_STALLED"
    UNKNOWN_RECORD_TYPE = "UNKNOWN_RECORD_TYPE"
    FORBIDDEN = "FORBIDDEN"


def _require(actor: Actor, access: Access) -> None:
    """FORBIDDEN unless the actor's roles may read (or change) the agency's flows."""
    require(actor, Resource.FLOWS, access)


def invalid_definition(problems: Sequence[DefinitionProblem]) -> DomainErrors:
    """One error per problem, `field` being the path of the bad part (`steps[3].goto`)."""
    return DomainErrors(
        [DomainError(FlowErrorCode.INVALID_DEFINITION, p.message, p.path) for p in problems]
    )


def _validated(data: object) -> FlowDefinition:
    problems = definition_problems(data, flow_vocabulary())
    if problems:
        raise invalid_definition(problems)
    return read_definition(data)


def _not_found(key: str) -> DomainError:
    return DomainError(FlowErrorCode.NOT_FOUND, f"No flow with key {key!r}.", "key")


def _draft_document(key: str, data: object) -> dict[str, Any]:
    """A draft as stored: any JSON object of bounded size that names this flow."""
    if not isinstance(data, dict):
        raise DomainError(
            FlowErrorCode.INVALID_DEFINITION, "A definition is an object.", "definition"
        )
    if data.get("key", key) != key:
        raise DomainError(
            FlowErrorCode.KEY_MISMATCH,
            f"The key of a flow cannot change ({key!r}); create another flow instead.",
            "key",
        )
    document = {**data, "key": key}
    try:
        size = len(json.dumps(document))
    except (TypeError, ValueError) as exc:
        raise DomainError(
            FlowErrorCode.INVALID_DEFINITION, f"Not JSON: {exc}", "definition"
        ) from exc
    if size > MAX_DRAFT_CHARACTERS:
        raise DomainError(
            FlowErrorCode.TOO_LARGE,
            f"The definition has {size} characters; at most {MAX_DRAFT_CHARACTERS}.",
            "definition",
        )
    return document


# --- reading -------------------------------------------------------------------------------


async def list_flows(actor: Actor) -> list[Flow]:
    _require(actor, Access.READ)
    return await Flow.filter(agency_id=actor.agency_id).order_by("key")


async def get_flow(actor: Actor, key: str) -> Flow:
    _require(actor, Access.READ)
    flow = await Flow.get_or_none(agency_id=actor.agency_id, key=key)
    if flow is None:
        raise _not_found(key)
    return flow


async def list_versions(actor: Actor, key: str) -> list[FlowVersion]:
    """The draft (if any) first, then the numbered versions, newest first."""
    flow = await get_flow(actor, key)
    versions = await FlowVersion.filter(flow_id=flow.id).order_by("-id")
    return sorted(versions, key=lambda v: (v.version is not None, -(v.version or 0)))


async def get_version(actor: Actor, key: str, version: int) -> FlowVersion:
    flow = await get_flow(actor, key)
    found = await FlowVersion.get_or_none(flow_id=flow.id, version=version)
    if found is None:
        raise DomainError(
            FlowErrorCode.VERSION_NOT_FOUND, f"Flow {key!r} has no version {version}.", "version"
        )
    return found


async def published_version(actor: Actor, key: str) -> FlowVersion | None:
    flow = await get_flow(actor, key)
    return await FlowVersion.get_or_none(flow_id=flow.id, status=FlowVersionStatus.PUBLISHED)


async def get_draft(actor: Actor, key: str) -> FlowVersion:
    flow = await get_flow(actor, key)
    draft = await FlowVersion.get_or_none(flow_id=flow.id, status=FlowVersionStatus.DRAFT)
    if draft is None:
        raise DomainError(FlowErrorCode.NO_DRAFT, f"Flow {key!r} has no draft.", "key")
    return draft


async def published_definitions(actor: Actor) -> list[FlowDefinition]:
    """The definition each flow of the agency runs now, by key (what `crm flows export` prints)."""
    _require(actor, Access.READ)
    versions = await FlowVersion.filter(
        agency_id=actor.agency_id, status=FlowVersionStatus.PUBLISHED
    )
    definitions = [FlowDefinition.model_validate(v.document) for v in versions]
    return sorted(definitions, key=lambda d: d.key)


async def flow_overview(actor: Actor) -> list[tuple[Flow, int | None, bool]]:
    """Each flow of the agency with its published version number and whether it has a draft."""
    flows = await list_flows(actor)
    versions = await FlowVersion.filter(
        agency_id=actor.agency_id,
        status__in=[FlowVersionStatus.PUBLISHED, FlowVersionStatus.DRAFT],
    ).values("flow_id", "status", "version")
    published = {
        v["flow_id"]: v["version"] for v in versions if v["status"] == FlowVersionStatus.PUBLISHED
    }
    drafts = {v["flow_id"] for v in versions if v["status"] == FlowVersionStatus.DRAFT}
    return [(flow, published.get(flow.id), flow.id in drafts) for flow in flows]


def validate_definition(actor: Actor, data: object) -> list[DefinitionProblem]:
    """Every problem publishing this document would meet, with the path of the bad part."""
    _require(actor, Access.READ)
    return definition_problems(data, flow_vocabulary())


async def validate_draft(actor: Actor, key: str) -> list[DefinitionProblem]:
    """Every problem publishing the draft would refuse, with the path of the bad part."""
    draft = await get_draft(actor, key)
    return definition_problems(draft.document, flow_vocabulary())


# --- writing -------------------------------------------------------------------------------


async def _locked_flow(actor: Actor, key: str, connection: BaseDBAsyncClient) -> Flow:
    """The flow row, locked on PostgreSQL so concurrent drafts and publishes serialise."""
    flow = await locked_in_agency(Flow, actor, connection, key=key)
    if flow is None:
        raise _not_found(key)
    return flow


async def _version_in(
    flow: Flow, status: FlowVersionStatus, connection: BaseDBAsyncClient
) -> FlowVersion | None:
    return await FlowVersion.filter(flow_id=flow.id, status=status).using_db(connection).first()


async def _publish(
    actor: Actor,
    flow: Flow,
    definition: FlowDefinition,
    connection: BaseDBAsyncClient,
    row: FlowVersion | None = None,
    based_on: int | None = None,
) -> FlowVersion:
    """Number the definition as the flow's next version and make it the one new runs use.

    `row` is the draft being published; without one a new row is written (rollback, seeding).
    """
    latest = (
        await FlowVersion.filter(flow_id=flow.id, version__isnull=False)
        .using_db(connection)
        .order_by("-version")
        .first()
    )
    number = (latest.version or 0) + 1 if latest is not None else 1
    numbered = definition.model_copy(update={"version": number})
    current = await _version_in(flow, FlowVersionStatus.PUBLISHED, connection)
    if current is not None:
        current.status = FlowVersionStatus.ARCHIVED
        await current.save(using_db=connection, update_fields=["status", "updated_at"])
    if row is None:
        row = FlowVersion(flow=flow, agency_id=flow.agency_id, created_by=actor.id)
        row.based_on = based_on
    row.version = number
    row.status = FlowVersionStatus.PUBLISHED
    row.document = numbered.document()
    row.trigger_event = numbered.trigger.event
    row.trigger_status = numbered.trigger.status
    row.published_by = actor.id
    row.published_at = datetime.now(UTC)
    await row.save(using_db=connection)
    flow.name = numbered.name
    await flow.save(using_db=connection, update_fields=["name", "updated_at"])
    return row


async def _record(
    actor: Actor,
    flow: Flow,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
    connection: BaseDBAsyncClient,
) -> None:
    """The audit row and the domain event of one change to a flow."""
    await record_audit(actor, AGGREGATE, str(flow.id), action, before, after, connection)
    payload = {"key": flow.key, **{k: v for k, v in after.items() if k != "document"}}
    await append_event(actor, f"{AGGREGATE}.{action}", AGGREGATE, str(flow.id), payload, connection)


async def create_flow(actor: Actor, data: object) -> FlowVersion:
    """A new flow of the agency, as a draft to edit and publish."""
    _require(actor, Access.WRITE)
    key = data.get("key") if isinstance(data, dict) else None
    if not isinstance(key, str):
        raise DomainError(FlowErrorCode.INVALID_DEFINITION, "A flow needs a key.", "key")
    key_problems = [p for p in definition_problems(data) if p.path == "key"]
    if key_problems:
        raise invalid_definition(key_problems)
    document = _draft_document(key, data)
    name = str(document.get("name") or key)[:100]
    try:
        async with in_transaction() as connection:
            flows = await Flow.filter(agency_id=actor.agency_id).using_db(connection).count()
            if flows >= MAX_FLOWS:
                raise DomainError(
                    FlowErrorCode.TOO_MANY, f"An agency has at most {MAX_FLOWS} flows.", "key"
                )
            flow = await Flow.create(
                agency_id=actor.agency_id, key=key, name=name, using_db=connection
            )
            draft = await FlowVersion.create(
                flow=flow,
                agency_id=actor.agency_id,
                status=FlowVersionStatus.DRAFT,
                document=document,
                created_by=actor.id,
                using_db=connection,
            )
            await _record(actor, flow, "created", {}, {"document": document}, connection)
    except IntegrityError as exc:
        raise DomainError(
            FlowErrorCode.KEY_TAKEN, f"A flow with key {key!r} exists already.", "key"
        ) from exc
    return draft


async def create_draft(actor: Actor, key: str) -> FlowVersion:
    """A draft copied from the version new runs use now."""
    _require(actor, Access.WRITE)
    async with in_transaction() as connection:
        flow = await _locked_flow(actor, key, connection)
        if await _version_in(flow, FlowVersionStatus.DRAFT, connection) is not None:
            raise DomainError(
                FlowErrorCode.DRAFT_EXISTS,
                f"Flow {key!r} has a draft already; edit it or discard it.",
                "key",
            )
        current = await _version_in(flow, FlowVersionStatus.PUBLISHED, connection)
        if current is None:
            raise DomainError(
                FlowErrorCode.NOT_PUBLISHED, f"Flow {key!r} has no published version.", "key"
            )
        draft = await FlowVersion.create(
            flow=flow,
            agency_id=actor.agency_id,
            status=FlowVersionStatus.DRAFT,
            document=current.document,
            based_on=current.version,
            created_by=actor.id,
            using_db=connection,
        )
        await _record(actor, flow, "draft_created", {}, {"based_on": current.version}, connection)
    return draft


async def edit_draft(actor: Actor, key: str, data: object) -> FlowVersion:
    """Replace the draft's document. It may have problems: publishing is where they stop it."""
    _require(actor, Access.WRITE)
    document = _draft_document(key, data)
    async with in_transaction() as connection:
        flow = await _locked_flow(actor, key, connection)
        draft = await _version_in(flow, FlowVersionStatus.DRAFT, connection)
        if draft is None:
            raise DomainError(FlowErrorCode.NO_DRAFT, f"Flow {key!r} has no draft.", "key")
        before = draft.document
        draft.document = document
        await draft.save(using_db=connection, update_fields=["document", "updated_at"])
        await _record(
            actor, flow, "draft_edited", {"document": before}, {"document": document}, connection
        )
    return draft


async def discard_draft(actor: Actor, key: str) -> None:
    _require(actor, Access.WRITE)
    async with in_transaction() as connection:
        flow = await _locked_flow(actor, key, connection)
        draft = await _version_in(flow, FlowVersionStatus.DRAFT, connection)
        if draft is None:
            raise DomainError(FlowErrorCode.NO_DRAFT, f"Flow {key!r} has no draft.", "key")
        await draft.delete(using_db=connection)
        await _record(actor, flow, "draft_discarded", {"document": draft.document}, {}, connection)


async def publish_draft(actor: Actor, key: str) -> FlowVersion:
    """Make the draft the version new runs use; runs in flight keep the version they started on.

    Refused with every problem of the draft, or when another version was published since the
    draft was taken (publishing it would silently undo that one).
    """
    _require(actor, Access.WRITE)
    async with in_transaction() as connection:
        flow = await _locked_flow(actor, key, connection)
        draft = await _version_in(flow, FlowVersionStatus.DRAFT, connection)
        if draft is None:
            raise DomainError(FlowErrorCode.NO_DRAFT, f"Flow {key!r} has no draft.", "key")
        current = await _version_in(flow, FlowVersionStatus.PUBLISHED, connection)
        current_number = current.version if current is not None else None
        if current_number != draft.based_on:
            raise DomainError(
                FlowErrorCode.DRAFT_OUTDATED,
                f"Version {current_number} was published after this draft was taken from "
                f"version {draft.based_on}; discard the draft and draft again.",
                "key",
            )
        definition = _validated(draft.document)
        published = await _publish(actor, flow, definition, connection, row=draft)
        await _record(
            actor,
            flow,
            "published",
            {"version": current_number},
            {"version": published.version, "document": published.document},
            connection,
        )
    return published


async def roll_back(actor: Actor, key: str, version: int) -> FlowVersion:
    """Publish a copy of an earlier version as the newest one (history is never rewritten)."""
    _require(actor, Access.WRITE)
    async with in_transaction() as connection:
        flow = await _locked_flow(actor, key, connection)
        source = (
            await FlowVersion.filter(flow_id=flow.id, version=version).using_db(connection).first()
        )
        if source is None:
            raise DomainError(
                FlowErrorCode.VERSION_NOT_FOUND,
                f"Flow {key!r} has no version {version}.",
                "version",
            )
        # Checked again: what the machines allow may have changed since it was published.
        definition = _validated(source.document)
        current = await _version_in(flow, FlowVersionStatus.PUBLISHED, connection)
        published = await _publish(actor, flow, definition, connection, based_on=version)
        await _record(
            actor,
            flow,
            "rolled_back",
            {"version": current.version if current else None},
            {"version": published.version, "copied_from": version},
            connection,
        )
    return published


async def seed_default_flows(agency_id: UUID, definitions: Sequence[FlowDefinition]) -> list[str]:
    """Publish each default as version 1 for an agency that has no flow of its key yet.

    Idempotent: safe on every start, and when several workers start at once.
    """
    actor = Actor.system(agency_id, DEFAULTS_ACTOR)
    seeded = []
    for definition in definitions:
        if await Flow.exists(agency_id=agency_id, key=definition.key):
            continue
        checked = _validated(definition)
        try:
            async with in_transaction() as connection:
                flow = await Flow.create(
                    agency_id=agency_id, key=checked.key, name=checked.name, using_db=connection
                )
                published = await _publish(actor, flow, checked, connection)
                await _record(
                    actor,
                    flow,
                    "published",
                    {},
                    {"version": published.version, "document": published.document},
                    connection,
                )
        except IntegrityError:
            continue  # another process seeded it first
        seeded.append(checked.key)
    return seeded


async def start_flow_manually(actor: Actor, key: str, record_id: str) -> FlowRun:
    """Start the published version of a flow on one record (any flow, whatever its trigger)."""
    _require(actor, Access.WRITE)
    current = await published_version(actor, key)
    if current is None:
        raise DomainError(
            FlowErrorCode.NOT_PUBLISHED, f"Flow {key!r} has no published version.", "key"
        )
    definition = FlowDefinition.model_validate(current.document)
    await read_record(actor, definition.record_type, record_id)  # NOT_FOUND if not visible
    async with in_transaction() as connection:
        flow = await _locked_flow(actor, key, connection)
        event = await append_event(
            actor,
            f"{AGGREGATE}.started_manually",
            AGGREGATE,
            str(flow.id),
            {"key": key, "record_type": definition.record_type, "record_id": record_id},
            connection,
        )
        run = await start_flow_run(
            actor.agency_id, definition, definition.record_type, record_id, event.id, connection
        )
        if run is None:
            raise DomainError(
                FlowErrorCode.ALREADY_RUNNING,
                f"Flow {key!r} already runs on this record.",
                "record_id",
            )
        await record_audit(
            actor,
            AGGREGATE,
            str(flow.id),
            "started_manually",
            {},
            {"workflow_id": run.workflow_id, "record_id": record_id},
            connection,
        )
    return run


# --- runs --------------------------------------------------------------------------------


async def record_runs(actor: Actor, record_type: str, record_id: str) -> list[FlowRun]:
    """The runs on one record, newest first: for whoever may read the record, and for the
    roles that manage flows (who control runs without reading the sales data)."""
    if scope(actor, Resource.FLOWS, Access.READ) is RowScope.NONE:
        await read_record(actor, record_type, record_id)  # NOT_FOUND / FORBIDDEN
    return await flow_runs.runs_of_record(actor, record_type, record_id)


async def cancel_run(actor: Actor, run_id: int) -> FlowRun:
    """Ask an active run of the agency to stop (see `domain.flow_runs.request_cancel`)."""
    _require(actor, Access.WRITE)
    return await flow_runs.request_cancel(actor, run_id)


async def retry_run_step(actor: Actor, run_id: int) -> FlowRun:
    """Ask a stalled run to try its failed step again."""
    _require(actor, Access.WRITE)
    return await flow_runs.request_step_retry(actor, run_id)
