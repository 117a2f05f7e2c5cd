"""Pipeline service: each agency's sales pipelines and their stages, configured by its admins.

Every agency gets a default pipeline the first time one is needed (Prospecting 10,
Qualification 25, Proposal 50, Negotiation 75, Closed Won 100, Closed Lost 0). Admins add
pipelines and add, rename, re-weight, reorder and delete stages. Pipelines are the sales
team's shared settings: whoever may read sales records reads every pipeline of the agency.

Each stage lists its activities: what a deal entering it needs done (the default pipeline's
Prospecting has "Initial Contact" and "Qualification Call", Proposal "Send Proposal" and
"Follow-up", ...). They become calling tasks for the deal's owner when a deal enters the stage
(`domain.stage_activities`); an admin marks some required, and a deal cannot leave the stage
(but to a lost one) while a required one is open. Activities are part of the pipeline: every
edit of the pipeline, its stages or their activities raises its `version` and is audited with
the whole pipeline before and after; tasks already made keep what they were made with.

Invariants kept here: stage names are unique within a pipeline, positions run 0..n-1, a won
stage is 100 % and a lost one 0 %, every pipeline keeps at least one open stage (where new
deals start), and a stage holding deals is neither deleted nor changes kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.query_utils import Prefetch
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from db.deals import Deal
from db.pipelines import Pipeline as Pipeline
from db.pipelines import Stage as Stage
from domain.actors import Actor
from domain.audit import changed_fields, record_audit
from domain.errors import DomainError, DomainErrors, input_errors
from domain.events import append_event
from domain.field_types import input_codes
from domain.policies import forbidden, require
from domain.record_changes import record_created
from domain.roles import Access, Resource, RowScope
from domain.row_locks import locked_in_agency

AGGREGATE = "pipeline"
DEFAULT_PIPELINE_NAME = "Sales"
MAX_STAGES = 20


class StageKind(StrEnum):
    """What reaching a stage means for a deal; the values are the deal statuses."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


DEFAULT_STAGES: tuple[tuple[str, int, StageKind], ...] = (
    ("Prospecting", 10, StageKind.OPEN),
    ("Qualification", 25, StageKind.OPEN),
    ("Proposal", 50, StageKind.OPEN),
    ("Negotiation", 75, StageKind.OPEN),
    ("Closed Won", 100, StageKind.WON),
    ("Closed Lost", 0, StageKind.LOST),
)

# What the default pipeline's stages ask of a deal entering them: (name, due in days).
DEFAULT_ACTIVITIES: dict[str, tuple[tuple[str, int], ...]] = {
    "Prospecting": (("Initial Contact", 1), ("Qualification Call", 3)),
    "Qualification": (("Needs Analysis", 3), ("Decision Maker Call", 5)),
    "Proposal": (("Send Proposal", 2), ("Follow-up", 5)),
    "Negotiation": (("Contract Review", 3), ("Negotiation Call", 5)),
    "Closed Won": (("Hand-over Call", 2),),
}
MAX_ACTIVITIES = 10

# A closed stage's probability is not a guess: a won deal is certain, a lost one is gone.
FIXED_PROBABILITY = {StageKind.WON: 100, StageKind.LOST: 0}


class PipelineErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    TOO_LONG = "TOO_LONG"
    TOO_MANY = "TOO_MANY"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    STAGE_IN_USE = "STAGE_IN_USE"
    DUPLICATE_ACTIVITY = "DUPLICATE_ACTIVITY"
    NO_OPEN_STAGE = "NO_OPEN_STAGE"
    FORBIDDEN = "FORBIDDEN"


class DealStageCode(StrEnum):
    """What `entry_stage` raises beyond NOT_FOUND; the deal and lead error enums include it."""

    STAGE_CLOSED = "STAGE_CLOSED"


_PYDANTIC_CODES = {
    **input_codes(PipelineErrorCode),
    "duplicate_activity": PipelineErrorCode.DUPLICATE_ACTIVITY,
}

Command = TypeVar("Command", bound=BaseModel)
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Probability = Annotated[int, Field(ge=0, le=100)]


class StageActivity(BaseModel):
    """Something a deal entering the stage needs done: a calling task for its owner, due some
    days after, which (when required) must be done or aborted before the deal moves on."""

    model_config = ConfigDict(extra="forbid")

    name: ShortName
    required: bool = False
    due_in_days: Annotated[int, Field(ge=0, le=365)] = 1


def _distinct_activities(activities: list[StageActivity]) -> list[StageActivity]:
    names = [activity.name.casefold() for activity in activities]
    if len(set(names)) != len(names):
        raise PydanticCustomError("duplicate_activity", "Two activities have the same name.")
    return activities


Activities = Annotated[
    list[StageActivity], Field(max_length=MAX_ACTIVITIES), AfterValidator(_distinct_activities)
]


class StageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortName
    probability: Probability
    kind: StageKind = StageKind.OPEN
    activities: Activities = []


class StageActivitiesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activities: Activities


class NewPipeline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortName
    # None: the default stages
    stages: Annotated[list[StageSpec], Field(min_length=1, max_length=MAX_STAGES)] | None = None


class NewStage(StageSpec):
    # 0-based; None or past the end: appended
    position: Annotated[int, Field(ge=0)] | None = None


class PipelineChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortName


class StageChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortName | None = None
    probability: Probability | None = None
    kind: StageKind | None = None


def _parse(model: type[Command], data: dict[str, Any]) -> Command:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise input_errors(exc, _PYDANTIC_CODES, PipelineErrorCode.INVALID) from exc


def _check_probability(name: str, probability: int, kind: StageKind, field: str) -> None:
    fixed = FIXED_PROBABILITY.get(kind)
    if fixed is not None and probability != fixed:
        raise DomainError(
            PipelineErrorCode.OUT_OF_RANGE,
            f"Stage {name!r} is {kind.value}: its probability must be {fixed}.",
            field,
        )


def _check_stage_set(stages: Sequence[StageSpec | Stage], field: str) -> None:
    """Unique names, consistent probabilities, at least one open stage.

    `field` names the input list the stages came from (errors point at `stages.1.name`); empty
    when one stage of a stored pipeline was edited (errors point at that input's own fields).
    """
    problems = []
    seen: set[str] = set()
    for index, stage in enumerate(stages):
        key = stage.name.casefold()
        if key in seen:
            problems.append(
                DomainError(
                    PipelineErrorCode.DUPLICATE_NAME,
                    f"Two stages are named {stage.name!r}.",
                    f"{field}.{index}.name" if field else "name",
                )
            )
        seen.add(key)
        try:
            prefix = f"{field}.{index}." if field else ""
            _check_probability(
                stage.name, stage.probability, StageKind(stage.kind), f"{prefix}probability"
            )
        except DomainError as exc:
            problems.append(exc)
    if not any(StageKind(stage.kind) is StageKind.OPEN for stage in stages):
        problems.append(
            DomainError(
                PipelineErrorCode.NO_OPEN_STAGE,
                "A pipeline needs at least one open stage: new deals start there.",
                field or "kind",
            )
        )
    if problems:
        raise DomainErrors(problems)


def _require_reader(actor: Actor) -> None:
    """Pipelines are shared settings: any access to sales records reads all of them."""
    require(actor, Resource.SALES_RECORDS, Access.READ)


def _require_admin(actor: Actor) -> None:
    if require(actor, Resource.ORGANISATION, Access.WRITE) is not RowScope.AGENCY:
        raise forbidden(Resource.ORGANISATION, Access.WRITE)


def _live_stages() -> QuerySet[Stage]:
    return Stage.filter(deleted_at__isnull=True).order_by("position")


def _with_stages(query: QuerySet[Pipeline]) -> QuerySet[Pipeline]:
    """Pipelines with their live stages in order, in one extra query for the whole list."""
    return query.prefetch_related(Prefetch("stages", queryset=_live_stages()))


def stages_of(pipeline: Pipeline) -> list[Stage]:
    """The stages fetched with the pipeline (see `_with_stages`), in order."""
    return list(pipeline.stages)


def snapshot(pipeline: Pipeline, stages: Sequence[Stage]) -> dict[str, Any]:
    return {
        "id": str(pipeline.id),
        "name": pipeline.name,
        "is_default": bool(pipeline.is_default),
        "stages": [
            {
                "id": str(s.id),
                "name": s.name,
                "probability": s.probability,
                "kind": s.kind,
                "activities": list(s.activities),
            }
            for s in stages
        ],
    }


def _not_found(what: str, record_id: UUID, field: str = "id") -> DomainError:
    return DomainError(PipelineErrorCode.NOT_FOUND, f"No {what} with id {record_id}.", field)


async def _insert_pipeline(
    actor: Actor,
    name: str,
    stages: Sequence[StageSpec],
    conn: BaseDBAsyncClient,
    is_default: bool = False,
) -> Pipeline:
    pipeline = await Pipeline.create(
        agency_id=actor.agency_id, name=name, is_default=True if is_default else None, using_db=conn
    )
    created = [
        await Stage.create(
            agency_id=actor.agency_id,
            pipeline_id=pipeline.id,
            name=spec.name,
            position=position,
            probability=spec.probability,
            kind=spec.kind.value,
            activities=[activity.model_dump() for activity in spec.activities],
            using_db=conn,
        )
        for position, spec in enumerate(stages)
    ]
    after = snapshot(pipeline, created)
    await record_created(actor, AGGREGATE, str(pipeline.id), after, conn)
    return pipeline


def _default_specs() -> list[StageSpec]:
    return [
        StageSpec(
            name=name,
            probability=probability,
            kind=kind,
            activities=[
                StageActivity(name=activity, due_in_days=days)
                for activity, days in DEFAULT_ACTIVITIES.get(name, ())
            ],
        )
        for name, probability, kind in DEFAULT_STAGES
    ]


async def ensure_default_pipeline(agency_id: UUID) -> Pipeline:
    """The agency's default pipeline, created with the default stages on first need.

    Idempotent under concurrency: the unique (agency_id, is_default) pair lets one request
    win; the others read what it wrote.
    """
    found: Pipeline | None = await Pipeline.get_or_none(agency_id=agency_id, is_default=True)
    if found is not None:
        return found
    actor = Actor.system(agency_id, "default-pipeline")
    try:
        async with in_transaction() as conn:
            return await _insert_pipeline(
                actor, DEFAULT_PIPELINE_NAME, _default_specs(), conn, is_default=True
            )
    except IntegrityError:
        seeded: Pipeline = await Pipeline.get(agency_id=agency_id, is_default=True)
        return seeded


async def _load(actor: Actor, pipeline_id: UUID) -> Pipeline:
    query = _with_stages(Pipeline.filter(agency_id=actor.agency_id, id=pipeline_id))
    pipeline: Pipeline | None = await query.first()
    if pipeline is None:
        raise _not_found("pipeline", pipeline_id)
    return pipeline


async def get_pipeline(actor: Actor, pipeline_id: UUID) -> Pipeline:
    _require_reader(actor)
    return await _load(actor, pipeline_id)


async def list_pipelines(actor: Actor) -> list[Pipeline]:
    """Every pipeline of the agency, the default first, then by name."""
    _require_reader(actor)
    await ensure_default_pipeline(actor.agency_id)
    found = await _with_stages(Pipeline.filter(agency_id=actor.agency_id)).order_by("name")
    return sorted(found, key=lambda p: not p.is_default)


async def _check_name_free(
    actor: Actor, name: str, conn: BaseDBAsyncClient, except_id: UUID | None = None
) -> None:
    taken = Pipeline.filter(agency_id=actor.agency_id, name__iexact=name).using_db(conn)
    if except_id is not None:
        taken = taken.exclude(id=except_id)
    if await taken.exists():
        raise DomainError(
            PipelineErrorCode.DUPLICATE_NAME, f"A pipeline is already named {name!r}.", "name"
        )


async def create_pipeline(actor: Actor, data: dict[str, Any]) -> Pipeline:
    """A new pipeline with the given stages, or with the default ones when none are given."""
    _require_admin(actor)
    command = _parse(NewPipeline, data)
    stages = command.stages if command.stages is not None else _default_specs()
    _check_stage_set(stages, "stages")
    await ensure_default_pipeline(actor.agency_id)
    async with in_transaction() as conn:
        await _check_name_free(actor, command.name, conn)
        pipeline = await _insert_pipeline(actor, command.name, stages, conn)
    return await _load(actor, pipeline.id)


async def _locked(actor: Actor, pipeline_id: UUID, conn: BaseDBAsyncClient) -> Pipeline:
    """The pipeline, row-locked on PostgreSQL: stage edits of one pipeline serialise."""
    pipeline = await locked_in_agency(Pipeline, actor, conn, id=pipeline_id)
    if pipeline is None:
        raise _not_found("pipeline", pipeline_id)
    return pipeline


async def _stages(pipeline: Pipeline, conn: BaseDBAsyncClient) -> list[Stage]:
    found: list[Stage] = await _live_stages().filter(pipeline_id=pipeline.id).using_db(conn)
    return found


async def _stage_of_agency(actor: Actor, stage_id: UUID) -> Stage:
    stage: Stage | None = await Stage.get_or_none(
        id=stage_id, agency_id=actor.agency_id, deleted_at__isnull=True
    )
    if stage is None:
        raise _not_found("stage", stage_id)
    return stage


async def _renumber(stages: Sequence[Stage], conn: BaseDBAsyncClient) -> None:
    """Positions 0..n-1 in the given order, saving only the stages that moved."""
    for position, stage in enumerate(stages):
        if stage.position != position:
            stage.position = position
            await stage.save(using_db=conn, update_fields=["position", "updated_at"])


async def _record_change(
    actor: Actor,
    pipeline: Pipeline,
    before: dict[str, Any],
    stages: Sequence[Stage],
    action: str,
    conn: BaseDBAsyncClient,
) -> None:
    old, new = changed_fields(before, snapshot(pipeline, stages))
    if new:
        pipeline.version += 1
        await pipeline.save(using_db=conn, update_fields=["version", "updated_at"])
        old["version"], new["version"] = pipeline.version - 1, pipeline.version
        await record_audit(actor, AGGREGATE, str(pipeline.id), action, old, new, conn)
        await append_event(
            actor, "pipeline.updated", AGGREGATE, str(pipeline.id), {"changes": new}, conn
        )


async def rename_pipeline(actor: Actor, pipeline_id: UUID, name: str) -> Pipeline:
    _require_admin(actor)
    command = _parse(PipelineChanges, {"name": name})
    async with in_transaction() as conn:
        pipeline = await _locked(actor, pipeline_id, conn)
        stages = await _stages(pipeline, conn)
        before = snapshot(pipeline, stages)
        await _check_name_free(actor, command.name, conn, except_id=pipeline.id)
        pipeline.name = command.name
        await pipeline.save(using_db=conn, update_fields=["name", "updated_at"])
        await _record_change(actor, pipeline, before, stages, "update", conn)
    return await _load(actor, pipeline.id)


async def add_stage(
    actor: Actor, pipeline_id: UUID, data: dict[str, Any]
) -> tuple[Pipeline, Stage]:
    """A new stage at `position` (appended by default); later stages shift down one."""
    _require_admin(actor)
    command = _parse(NewStage, data)
    _check_probability(command.name, command.probability, command.kind, "probability")
    async with in_transaction() as conn:
        pipeline = await _locked(actor, pipeline_id, conn)
        stages = await _stages(pipeline, conn)
        if len(stages) >= MAX_STAGES:
            raise DomainError(
                PipelineErrorCode.TOO_MANY, f"A pipeline has at most {MAX_STAGES} stages.", "name"
            )
        if any(s.name.casefold() == command.name.casefold() for s in stages):
            raise DomainError(
                PipelineErrorCode.DUPLICATE_NAME,
                f"This pipeline already has a stage named {command.name!r}.",
                "name",
            )
        before = snapshot(pipeline, stages)
        position = min(
            command.position if command.position is not None else len(stages), len(stages)
        )
        stage = await Stage.create(
            agency_id=actor.agency_id,
            pipeline_id=pipeline.id,
            name=command.name,
            position=position,
            probability=command.probability,
            kind=command.kind.value,
            using_db=conn,
        )
        stages.insert(position, stage)
        await _renumber(stages, conn)
        await _record_change(actor, pipeline, before, stages, "add_stage", conn)
    return await _load(actor, pipeline.id), stage


async def _deals_in(stage: Stage, conn: BaseDBAsyncClient) -> bool:
    in_use: bool = (
        await Deal.filter(stage_id=stage.id, deleted_at__isnull=True).using_db(conn).exists()
    )
    return in_use


async def update_stage(
    actor: Actor, stage_id: UUID, data: dict[str, Any]
) -> tuple[Pipeline, Stage]:
    """Rename a stage, change its probability, or (while no deal is in it) its kind."""
    _require_admin(actor)
    command = _parse(StageChanges, data)
    changes = command.model_dump(include=set(data), exclude_none=True)
    found = await _stage_of_agency(actor, stage_id)
    async with in_transaction() as conn:
        pipeline = await _locked(actor, found.pipeline_id, conn)
        stages = await _stages(pipeline, conn)
        stage = next((s for s in stages if s.id == stage_id), None)
        if stage is None:  # deleted meanwhile
            raise _not_found("stage", stage_id)
        before = snapshot(pipeline, stages)
        kind = changes.get("kind")
        if kind is not None and kind != stage.kind and await _deals_in(stage, conn):
            raise DomainError(
                PipelineErrorCode.STAGE_IN_USE,
                "Deals are in this stage: move them out before changing its kind.",
                "kind",
            )
        stage.update_from_dict(
            {k: v.value if isinstance(v, StageKind) else v for k, v in changes.items()}
        )
        _check_stage_set(stages, "")
        await stage.save(using_db=conn)
        await _record_change(actor, pipeline, before, stages, "update_stage", conn)
    return await _load(actor, pipeline.id), stage


async def set_stage_activities(
    actor: Actor, stage_id: UUID, data: dict[str, Any]
) -> tuple[Pipeline, Stage]:
    """Replace what a deal entering the stage needs done (admins): a new pipeline version.
    Deals entering from now on get the new list; tasks already made stay as they are."""
    _require_admin(actor)
    command = _parse(StageActivitiesInput, data)
    found = await _stage_of_agency(actor, stage_id)
    async with in_transaction() as conn:
        pipeline = await _locked(actor, found.pipeline_id, conn)
        stages = await _stages(pipeline, conn)
        stage = next((s for s in stages if s.id == stage_id), None)
        if stage is None:
            raise _not_found("stage", stage_id)
        before = snapshot(pipeline, stages)
        stage.activities = [activity.model_dump() for activity in command.activities]
        await stage.save(using_db=conn, update_fields=["activities", "updated_at"])
        await _record_change(actor, pipeline, before, stages, "set_stage_activities", conn)
    return await _load(actor, pipeline.id), stage


async def reorder_stages(actor: Actor, pipeline_id: UUID, stage_ids: Sequence[UUID]) -> Pipeline:
    """Put the pipeline's stages in the given order; the list must name each stage once."""
    _require_admin(actor)
    async with in_transaction() as conn:
        pipeline = await _locked(actor, pipeline_id, conn)
        stages = await _stages(pipeline, conn)
        by_id = {s.id: s for s in stages}
        if len(stage_ids) != len(by_id) or set(stage_ids) != set(by_id):
            raise DomainError(
                PipelineErrorCode.INVALID,
                f"List each of the pipeline's {len(by_id)} stages exactly once.",
                "stage_ids",
            )
        before = snapshot(pipeline, stages)
        ordered = [by_id[i] for i in stage_ids]
        await _renumber(ordered, conn)
        await _record_change(actor, pipeline, before, ordered, "reorder_stages", conn)
    return await _load(actor, pipeline.id)


async def delete_stage(actor: Actor, stage_id: UUID) -> tuple[Pipeline, Stage]:
    """Remove a stage no deal is in; the pipeline must keep an open stage."""
    _require_admin(actor)
    found = await _stage_of_agency(actor, stage_id)
    async with in_transaction() as conn:
        pipeline = await _locked(actor, found.pipeline_id, conn)
        stages = await _stages(pipeline, conn)
        stage = next((s for s in stages if s.id == stage_id), None)
        if stage is None:
            raise _not_found("stage", stage_id)
        if await _deals_in(stage, conn):
            raise DomainError(
                PipelineErrorCode.STAGE_IN_USE,
                "Deals are in this stage: move them to another stage first.",
                "id",
            )
        remaining = [s for s in stages if s.id != stage_id]
        if not any(s.kind == StageKind.OPEN for s in remaining):
            raise DomainError(
                PipelineErrorCode.NO_OPEN_STAGE,
                "This is the pipeline's last open stage: new deals need one to start in.",
                "id",
            )
        before = snapshot(pipeline, stages)
        stage.deleted_at = datetime.now(UTC)
        await stage.save(using_db=conn, update_fields=["deleted_at", "updated_at"])
        await _renumber(remaining, conn)
        await _record_change(actor, pipeline, before, remaining, "delete_stage", conn)
    return await _load(actor, pipeline.id), stage


async def entry_stage(
    actor: Actor,
    pipeline_id: UUID | None,
    stage_id: UUID | None,
    conn: BaseDBAsyncClient,
) -> Stage:
    """The open stage a new deal starts in: the one given, else the first open stage of the
    pipeline given, else of the agency's default pipeline (which the caller has ensured).

    Raises NOT_FOUND (field pipeline_id or stage_id) or STAGE_CLOSED.
    """
    live = Stage.filter(agency_id=actor.agency_id, deleted_at__isnull=True).using_db(conn)
    if stage_id is not None:
        stage: Stage | None = await live.get_or_none(id=stage_id)
        if stage is None or (pipeline_id is not None and stage.pipeline_id != pipeline_id):
            raise _not_found("stage in that pipeline", stage_id, "stage_id")
        if stage.kind != StageKind.OPEN:
            raise DomainError(
                DealStageCode.STAGE_CLOSED,
                f"{stage.name!r} is a {stage.kind} stage: deals start in an open stage "
                "and close with moveDeal.",
                "stage_id",
            )
        return stage
    if pipeline_id is None:
        default = await Pipeline.filter(agency_id=actor.agency_id, is_default=True).using_db(conn)
        pipeline_id = default[0].id
    elif (
        not await Pipeline.filter(agency_id=actor.agency_id, id=pipeline_id).using_db(conn).exists()
    ):
        raise _not_found("pipeline", pipeline_id, "pipeline_id")
    first_open: Stage | None = (
        await live.filter(pipeline_id=pipeline_id, kind=StageKind.OPEN).order_by("position").first()
    )
    # every pipeline keeps an open stage (see delete_stage and update_stage)
    assert first_open is not None, f"pipeline {pipeline_id} has no open stage"
    return first_open
